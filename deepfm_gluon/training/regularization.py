"""L2 regularisation: on the embedding rows a batch touches, and on the dense weights.

The penalty is (lambda / 2) * sum of ||w_r||^2 over the distinct embedding
rows r that the batch looks up, in every embedding table of the model
(its ModelSpec's ``tables``: FM's ``embedding`` and first-order ``fc``), added to the batch's mean loss; its gradient is
lambda * w_r on those rows and zero elsewhere. Why the touched rows and not
the whole table (FuxiCTR's torch.norm over the parameter): it is the same
for dense and for lazy sparse updates (the sparse path only ever sees the
batch's rows), and a step's cost stays O(batch), not O(vocabulary). Rows a
batch never touches are not shrunk.

Gluon's Trainer divides gradients by the batch size (``step(batch_size)``,
the loss being a per-example sum), so the term added to the raw gradient is
``batch_size * lambda * w``.
"""
import mxnet as mx
import numpy as np

def l2_gradient_term(weights, l2, batch_size):
    """What to add to raw (not yet rescaled) gradients of embedding ``weights``
    rows (any array type, (rows, width)) for penalty ``l2``."""
    return weights * (l2 * batch_size)


def add_embedding_l2_dense(net, tables, X, l2, batch_size, ctx):
    """Add the penalty's gradient to ``net``'s dense gradients of the child
    ``tables`` (names) on
    ``ctx`` for the distinct rows of ``X`` (numpy int (batch, num_fields),
    offsets added). Call once per step (one context) after backward."""
    rows = mx.np.array(np.unique(np.asarray(X)), dtype=np.int64, ctx=ctx)
    for name in tables:
        param = getattr(net, name).weight
        grad, weight = param.grad(ctx), param.data(ctx)
        grad[rows] += l2_gradient_term(weight[rows], l2, batch_size)


def add_embedding_l2_compact(grads, weights, l2, batch_size):
    """The sparse path's compact gradients (one (len(uniq), width) array per
    table) plus the penalty's term for the compact ``weights`` rows."""
    return [g + l2_gradient_term(w, l2, batch_size) for g, w in zip(grads, weights)]


def dense_l2_options(net, tables, dense_l2):
    """Optimizer options for the dense L2 penalty (dense_l2/2)*||w||^2 on every
    parameter of ``net`` except the embedding ``tables`` (child names), as
    FuxiCTR's net_regularizer: the Trainer's weight decay ``wd`` (whose
    gradient term is dense_l2 * w, the penalty's) with ``wd_mult`` 0 on the
    tables, whose L2 is ``embedding_l2``'s. Returns {} when ``dense_l2`` is 0."""
    if not dense_l2:
        return {}
    for name in tables:
        child = getattr(net, name, None)
        if child is not None:
            for param in child.collect_params().values():
                param.wd_mult = 0.0
    return {"wd": float(dense_l2)}
