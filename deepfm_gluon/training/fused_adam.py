"""Adam with one fused multi-tensor update per step, instead of one per parameter.

Gluon's Trainer calls the optimizer's ``update`` once per parameter: twelve
``adam_update`` operators per step for the book's DeepFM, each paying MXNet's
per-operator dispatch (docs/benchmarks.md, "Where the time goes"). MXNet
1.9.1 has a multi-tensor AdamW operator (``contrib.multi_adamw_update``); with
weight decay 0 and ``eta`` 1 its step is Adam's step exactly:

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    w = w - lr_t m / (sqrt(v) + eps),  lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)

``FusedAdam`` is ``mx.optimizer.Adam`` (same states, same update counts, so
checkpoints and resume do not change) that asks Gluon's Updater for lists of
parameters (``aggregate_num``) and updates each list with one operator. What
the fused operator does not do the same way is left to Adam's own per-
parameter update: weight decay (Adam adds ``wd * w`` to the gradient, AdamW
decouples it), gradient clipping, row_sparse gradients (lazy updates) and
float16 weights.
"""
import math

import mxnet as mx
import numpy as np
from mxnet import optimizer as mx_optimizer

# Parameters per fused operator: MXNet's own cap for its multi-tensor LAMB
# (optimizer.LAMB.aggregate_num); larger lists crash the 1.9.1 operator.
MAX_FUSED = 45


@mx_optimizer.register
class FusedAdam(mx_optimizer.Adam):
    """``mx.optimizer.Adam`` whose dense float32 updates run as one
    ``multi_adamw_update`` per list of up to ``MAX_FUSED`` parameters.
    Registered as 'fusedadam' (MXNet lower-cases optimizer names)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.aggregate_num = MAX_FUSED
        self._rescale_arrays = {}

    def update_multi_precision(self, index, weight, grad, state):
        if not isinstance(index, (list, tuple)):
            return super().update_multi_precision(index, weight, grad, state)
        fused = [i for i in range(len(index)) if self._fusable(index[i], weight[i], grad[i])]
        for i in range(len(index)):
            if i not in fused:
                super().update_multi_precision(index[i], weight[i], grad[i], state[i])
        if fused:
            self._fused_update([index[i] for i in fused], [weight[i] for i in fused],
                               [grad[i] for i in fused], [state[i] for i in fused])
        return None

    def _fusable(self, index, weight, grad):
        return (weight.stype == "default" and grad.stype == "default" and np.dtype(weight.dtype) == np.float32
                and not self.clip_gradient and self._get_wd(index) == 0)

    def _fused_update(self, indices, weights, grads, states):
        """Adam's step for every parameter in ``indices`` in one operator."""
        self._update_count(indices)
        lrs = []
        for index, lr in zip(indices, self._get_lrs(indices)):
            t = self._index_update_count[index]
            lrs.append(lr * math.sqrt(1. - self.beta2 ** t) / (1. - self.beta1 ** t))
        count = len(indices)
        mx.nd.contrib.multi_adamw_update(
            list(weights), list(grads), [s[0] for s in states], [s[1] for s in states],
            self._rescale_array(weights[0].context), lrs=lrs, wds=[0.0] * count, etas=[1.0] * count,
            beta1=self.beta1, beta2=self.beta2, epsilon=self.epsilon, out=list(weights))

    def _rescale_array(self, ctx):
        """``rescale_grad`` as the one-element array the operator takes, made
        once per value and device (the Trainer sets it before every step)."""
        key = (ctx, self.rescale_grad)
        array = self._rescale_arrays.get(key)
        if array is None:
            if len(self._rescale_arrays) > 16:
                self._rescale_arrays.clear()
            array = self._rescale_arrays[key] = mx.nd.full((1,), self.rescale_grad, ctx=ctx)
        return array
