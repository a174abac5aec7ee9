"""Adam's dense step as one ``adam_update`` for all parameters, bit for bit
the per-parameter step.

Gluon's Trainer calls ``adam_update`` once per parameter: twelve operators
per step for the book's DeepFM, each paying MXNet's per-operator dispatch
(docs/benchmarks.md, "Where the time goes"). Here every dense parameter of a
group (same ``lr_mult`` and ``wd_mult``) lives as a view into one flat
buffer, and so do its gradient and Adam's mean and variance: one
``adam_update`` over the four flat buffers is the same elementwise kernel,
with the same scalars, applied to the same numbers, so the weights are
exactly those of the per-parameter path (tests/training/test_flat_adam.py).
MXNet's multi-tensor ``multi_adamw_update`` was tried first and rounds
differently (docs/benchmarks.md).

Everything else still sees ordinary parameters: ``param.data()`` and
``param.grad()`` are the views, the updater's ``states`` hold each
parameter's own (mean, var) views (checkpoints read and restore them; a
restore calls ``states_replaced``, and the restored states are copied into
the buffers at the next step), and the
update counts are Adam's own. It applies only where the update happens
here, on one device, without a kvstore, with Gluon's plain Adam and float32
dense parameters updated by ``grad_req='write'``; a step with a stale
gradient takes Gluon's own path (on the same views).
"""
import math

import mxnet as mx
import numpy as np

from .. import gluon_compat


def _fusable(param):
    return (param.grad_req == "write" and gluon_compat.storage_types(param) == ("default", "default")
            and np.dtype(param.dtype) == np.float32)


class FlatAdam:
    """The flat buffers of one Trainer's dense parameters and their step.
    Build with ``for_trainer`` (None where it does not apply)."""

    def __init__(self, trainer, groups, ctx):
        self.trainer = trainer
        self.ctx = ctx
        self.groups = [_FlatGroup(members, ctx) for members in groups]
        self.checked = False
        self._adopted_by = None  # the updater whose states are the views (None: adopt at the next step)

    @classmethod
    def for_trainer(cls, trainer):
        """A FlatAdam for the new ``trainer``, its parameters bound to the flat
        buffers now, before any forward pass (a static graph keeps the arrays
        it first ran with); None when its step must stay Gluon's: another
        optimizer, several devices, a kvstore, parameters not all initialized
        or not all dense float32."""
        optimizer = gluon_compat.trainer_optimizer(trainer)
        kvstore, on_kvstore = gluon_compat.trainer_kvstore_choice(trainer)
        if type(optimizer) is not mx.optimizer.Adam or on_kvstore or kvstore not in (None, "device", "local"):
            return None
        params = [(i, p) for i, p in enumerate(gluon_compat.trainer_params(trainer)) if p.grad_req != "null"]
        if not params or not all(gluon_compat.parameter_ready(p) and _fusable(p) for _, p in params):
            return None
        contexts = {c for _, p in params for c in p.list_ctx()}
        if len(contexts) != 1:
            return None
        groups = {}
        for index, param in params:
            groups.setdefault((param.lr_mult, param.wd_mult), []).append((index, param))
        return cls(trainer, list(groups.values()), contexts.pop())

    def step(self, ignore_stale_grad=False):
        """Adam's step for every parameter, one ``adam_update`` per group;
        False (nothing done) when Gluon's path must decide: a stale gradient,
        or the Trainer made a kvstore after all (the views are ordinary
        arrays to it)."""
        if not self.checked:
            if not gluon_compat.trainer_updates_here_on_one_device(self.trainer):
                return False
            self.checked = True
        if not all(group.bound() for group in self.groups):
            return False  # a parameter got arrays of its own (re-initialized): Gluon's step updates those
        updater = gluon_compat.trainer_updaters(self.trainer)[0]
        if updater is not self._adopted_by:  # the first step, or states restored since
            for group in self.groups:
                group.adopt_states(updater)
            self._adopted_by = updater
        if not all(gluon_compat.has_fresh_gradient(p.data()) for g in self.groups for p in g.params):
            return False
        optimizer = gluon_compat.trainer_optimizer(self.trainer)
        for group in self.groups:
            group.update(optimizer, self.ctx.device_id)
        return True

    def states_replaced(self):
        """Say that the updater's states were replaced (a checkpoint restore):
        the next step copies them into the flat buffers. Without this call a
        step assumes the states are still the views it adopted."""
        self._adopted_by = None


class _FlatGroup:
    """Parameters with one lr and wd, their gradients and Adam's moments as views of four flat buffers."""

    def __init__(self, members, ctx):
        self.indices = [index for index, _ in members]
        self.params = [param for _, param in members]
        size = sum(int(np.prod(p.shape)) for p in self.params)
        self.weight, self.grad, self.mean, self.var = (mx.nd.zeros((size,), ctx=ctx, dtype=np.float32)
                                                       for _ in range(4))
        self.states, self.views = [], []
        offset = 0
        for param in self.params:
            count, shape = int(np.prod(param.shape)), tuple(param.shape)
            views = [flat[offset:offset + count].reshape(shape)
                     for flat in (self.weight, self.grad, self.mean, self.var)]
            data, grad = param.data(), param.grad()
            if isinstance(data, mx.np.ndarray):  # numpy mode: the parameter keeps its array type
                views[0], views[1] = views[0].as_np_ndarray(), views[1].as_np_ndarray()
            views[0][:] = data
            views[1][:] = grad
            gluon_compat.bind_parameter_arrays(param, views[0], views[1])
            self.views.append(views[0])
            self.states.append((views[2], views[3]))
            offset += count

    def bound(self):
        """Whether every parameter's value is still its view here."""
        return all(param.data() is view for param, view in zip(self.params, self.views))

    def adopt_states(self, updater):
        """Make the updater's state of each parameter its views here, copying
        in any other state it holds (a restored checkpoint's, or earlier steps')."""
        for index, views in zip(self.indices, self.states):
            state = updater.states.get(index)
            if state is views:
                continue
            for view, part in zip(views, state if state is not None else (0.0, 0.0)):
                view[:] = part.as_in_context(view.context) if hasattr(part, "as_in_context") else part
            updater.states[index] = views
            updater.states_synced[index] = True

    def update(self, optimizer, device_id):
        """``mx.optimizer.Adam.update``'s arithmetic, once for the whole group."""
        lr, wd, t = gluon_compat.count_step(optimizer, self.indices, device_id)
        lr *= math.sqrt(1. - optimizer.beta2 ** t) / (1. - optimizer.beta1 ** t)
        kwargs = {"beta1": optimizer.beta1, "beta2": optimizer.beta2, "epsilon": optimizer.epsilon,
                  "rescale_grad": optimizer.rescale_grad}
        if optimizer.clip_gradient:
            kwargs["clip_gradient"] = optimizer.clip_gradient
        mx.nd.adam_update(self.weight, self.grad, self.mean, self.var, out=self.weight,
                          lazy_update=optimizer.lazy_update, lr=lr, wd=wd, **kwargs)
        for param in self.params:
            gluon_compat.mark_gradient_used(param.data())
