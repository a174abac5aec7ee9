"""A training step's forward pass as one graph: the model, the loss and the
numbers the loop reads back.

The loop used to call the hybridized model, then the loss and the batch
statistics operator by operator: about 17 calls from Python into MXNet per
batch, each paying its dispatch, and each an engine operator of its own.
``TrainingObjective`` is one HybridBlock over the three, so a hybridized
step makes one cached-graph call. The operators are the same ones on the
same numbers (the loss is Gluon's ``SigmoidBinaryCrossEntropyLoss``), so the
loss, the statistics and the gradients are bit for bit those of the
operator-by-operator path (tests/training/test_objective.py).
"""
import numpy as np
from mxnet import gluon


class TrainingObjective(gluon.HybridBlock):
    """``(loss, stats)`` of ``scorer`` on a batch.

    ``scorer``: a Block returning logits (``LogitView``), or the model's
    probabilities when ``book_compat`` (the book's double sigmoid: the loss
    adds one); ``loss``: the Gluon loss (per example). ``forward(x, y)``:
    int32 (B, f) features and (B, 1) float32 labels; returns the (B,) loss
    and float32 ``stats``: [loss sum, correct at 0.5] (book_compat: and
    d2l's exact-equality count). The output is not returned: as an output of
    the graph it would need a (zero) gradient of its own in the backward pass."""

    def __init__(self, scorer, loss, book_compat=False, **kwargs):
        super().__init__(**kwargs)
        self.scorer, self.loss, self.book_compat = scorer, loss, book_compat

    def hybrid_forward(self, F, x, y):
        out = self.scorer(x)
        loss = self.loss(out, y)
        # read back, never differentiated: no backward operators for the statistics
        return loss, batch_stats(F, _no_gradient(F, loss), out, y, self.book_compat)


def _no_gradient(F, a):
    """``a`` with no gradient flowing back (numpy mode has no stop_gradient: the legacy BlockGrad)."""
    return F.BlockGrad(a.as_nd_ndarray()).as_np_ndarray()


def batch_stats(F, loss, out, y, book_compat=False):
    """[loss sum, correct at 0.5] as float32 (B-independent (2,)); with
    ``book_compat`` ``out`` is a probability and d2l's exact-equality count
    of outputs equal to labels is a third entry (3,)."""
    if not book_compat:
        return F.np.stack([loss.sum(), ((out > 0) == (y > 0.5)).sum().astype(np.float32)])
    return F.np.stack([loss.sum(), ((out > 0.5) == (y > 0.5)).sum().astype(np.float32),
                       (out == y).sum().astype(np.float32)])
