"""Sparse embedding updates: a step costs O(batch), not O(vocabulary).

Why not ``nn.Embedding(sparse_grad=True)``: it fails under ``npx.set_np()``,
and in legacy mode its CPU backward (``_backward_Embedding`` with a
row_sparse output) still walks a flag array as long as the whole table: with
the MXNet profiler, 52.6 ms per call at 10M rows against 1.15 ms at 100k
(docs/criteo.md). Dense gradients are worse: each step zeroes, and Adam then
rewrites, every row of both tables.

What this does instead, per step, with the one model definition and numpy
mode kept:

1. the batch's distinct feature ids ``uniq`` (pandas' hash factorize) and
   each cell's position in them;
2. a *compact twin* of the model, built once, whose embedding tables have
   ``batch_size * num_fields`` rows (the most a batch can touch) and whose
   other blocks (``linear_layer``, ``mlp``) ARE the model's blocks, so they
   share parameters; the rows ``uniq`` of the big tables are copied into it;
3. forward/backward on the twin: gradients for the compact tables are small
   and dense, the shared blocks get their usual gradients;
4. the compact gradient rows become a ``row_sparse`` gradient of the big
   table (rows ``uniq``) and MXNet's own optimizer applies it with
   ``lazy_update=True``: for Adam only those rows' weights and moments change
   (lazy Adam); for SGD without weight decay this equals the dense update
   exactly, since the other rows' gradients are zero.

The big tables stay the model's parameters, so evaluation, saving and serving
are unchanged. One device only.
"""
import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from .. import gluon_compat
from ..errors import DeepFMError
from ..models import LogitView
from .config import RunSpec
from .loop import Fitter

TABLES = ("embedding", "fc")


def compact_twin(net, rows):
    """A model of ``net``'s class with ``rows``-row embedding tables, sharing
    every other child block (and so parameter) with ``net``."""
    config = dict(net.config())
    num_fields = len(config["field_dims"])
    per_field = -(-rows // num_fields)
    config["field_dims"] = [per_field] * num_fields
    twin = type(net)(**config)
    for name in gluon_compat.child_block_names(net):
        if name not in TABLES:
            setattr(twin, name, getattr(net, name))
    return twin


class SparseTables:
    """The big tables' lazy optimizer: one MXNet optimizer object per table,
    fed row_sparse gradients."""

    def __init__(self, net, optimizer, lr, batch_size, ctx):
        self.weights = [getattr(net, name).weight.data(ctx).as_nd_ndarray() for name in TABLES]
        self.opt = mx.optimizer.create(optimizer, learning_rate=lr, rescale_grad=1.0 / batch_size,
                                       lazy_update=True)
        self.states = [self.opt.create_state(i, w) for i, w in enumerate(self.weights)]

    def update(self, grads, rows):
        """Apply compact gradients ``grads`` (one per table, (len(rows), width))."""
        for i, (weight, grad) in enumerate(zip(self.weights, grads)):
            sparse = mx.nd.sparse.row_sparse_array((grad, rows), shape=weight.shape, ctx=weight.context)
            self.opt.update(i, weight, sparse, self.states[i])


class SparseFitter(Fitter):
    """``Fitter`` with compact-twin steps and lazy row updates of the tables."""

    def initialize(self):
        """Initialize the model, build its compact twin and the two optimizers.
        Its options (one device, no book-compat) are RunSpec's to check."""
        RunSpec(model=self.kind, config=self.config).validate()
        import pandas as pd  # only sparse runs need pandas: imported here to keep start-up fast
        self.factorize = pd.factorize  # the batch's distinct ids, in a hash table
        ctx = self.contexts[0]
        self.init_net([ctx], sparse_tables=TABLES)  # no dense gradient buffers for the big tables
        self.rows = self.config.batch_size * self.net.num_fields
        self.twin = compact_twin(self.net, self.rows)
        for name in TABLES:  # the compact tables are overwritten every step
            getattr(self.twin, name).initialize(mx.init.Zero(), ctx=ctx, force_reinit=True)
        self.twin_logits = LogitView(self.twin)
        if self.config.hybridize:
            self.twin_logits.hybridize(static_alloc=True, static_shape=True)
        lr = self.learning_rate
        dense = {k: p for k, p in self.twin.collect_params().items()
                 if not any(p is getattr(self.twin, t).weight for t in TABLES)}
        self.trainer = gluon.Trainer(dense, self.config.optimizer, {"learning_rate": lr},
                                     kvstore=None, update_on_kvstore=False)
        self.tables = SparseTables(self.net, self.config.optimizer, lr, self.config.batch_size, ctx)
        self.big = [getattr(self.net, t).weight.data(ctx) for t in TABLES]
        self.small = [getattr(self.twin, t).weight for t in TABLES]

    def step(self, X, y):
        """One compact step on a numpy batch; returns [(loss, logits, labels)] like Fitter.step."""
        ctx = self.contexts[0]
        codes, uniq = self.factorize(np.asarray(X).ravel())
        if len(X) != self.config.batch_size:
            raise DeepFMError(f"sparse updates need full batches of {self.config.batch_size}")
        rows = mx.np.array(uniq, dtype=np.int64, ctx=ctx)
        for big, small in zip(self.big, self.small):
            small.data(ctx)[:len(uniq)] = mx.np.take(big, rows, axis=0)
        xb = mx.np.array(codes.reshape(X.shape), dtype=np.int32, ctx=ctx)
        yb = mx.np.array(y, dtype=np.float32, ctx=ctx)
        with autograd.record():
            logits = self.twin_logits(xb)
            loss = self.loss(logits, yb)
        loss.backward()
        self.trainer.step(len(X))
        self.tables.update([s.grad(ctx)[:len(uniq)].as_nd_ndarray() for s in self.small],
                           rows.as_nd_ndarray())
        return [(loss, logits, yb)]

