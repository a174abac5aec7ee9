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
2. a *compact twin* of the model, built once, whose embedding tables (the
   children its ModelSpec lists in ``tables``) have ``batch_size *
   num_fields`` rows (the most a batch can touch) and whose other child
   blocks (FM's ``linear_layer``, DeepFM's ``mlp``, ...) ARE the model's
   blocks, so they share parameters; the rows ``uniq`` of the big tables are
   copied into it;
3. forward/backward on the twin: gradients for the compact tables are small
   and dense, the shared blocks get their usual gradients;
4. the compact gradient rows become a ``row_sparse`` gradient of the big
   table (rows ``uniq``) and MXNet's own optimizer applies it with
   ``lazy_update=True``: for Adam only those rows' weights and moments change
   (lazy Adam); for SGD without weight decay this equals the dense update
   exactly, since the other rows' gradients are zero.

The big tables stay the model's parameters, so evaluation, saving and serving
are unchanged.

Several devices (``--devices cpu:2``, GPUs): the tables live once, on the
first device; the twin (its compact tables and the shared dense blocks) lives
on every device. A step factorizes the whole batch once, copies the ``uniq``
rows into every device's twin, and each device runs forward/backward on its
shard with the same compact codes, so the devices' compact gradients are
aligned row for row: their sum is the batch's row_sparse gradient, applied
by one lazy update on the first device. The dense blocks are reduced by the
Trainer's kvstore as in ``Fitter``. Same semantics as one device.
"""
import mxnet as mx
import numpy as np
from mxnet import autograd

from .. import gluon_compat
from ..errors import DeepFMError
from ..models import LogitView
from .config import RunSpec, is_dist_kvstore
from .loop import Fitter, _as_array, _load
from .optimizers import LAZY_OPTIMIZERS, make_table_optimizer, make_trainer
from .regularization import add_embedding_l2_compact

def num_fields_of(net):
    """The number of fields of a model (its ``config()``'s field_dims)."""
    return len(net.config()["field_dims"])


def compact_twin(net, rows, tables):
    """A model of ``net``'s class (rebuilt from ``net.config()``) whose child
    embedding ``tables`` (names) have about ``rows`` rows, sharing every
    other child block (and so parameter) with ``net``. Parameters a model
    registers on itself, outside a child block, cannot be shared: refused."""
    own = gluon_compat.own_parameter_names(net)
    if own:
        raise DeepFMError(f"sparse updates need every parameter in a child block; {type(net).__name__} "
                          f"holds {', '.join(own)} itself (move it into a child block)")
    config = dict(net.config())
    num_fields = len(config["field_dims"])
    per_field = -(-rows // num_fields)
    config["field_dims"] = [per_field] * num_fields
    twin = type(net)(**config)
    for name in gluon_compat.child_block_names(net):
        if name not in tables:
            setattr(twin, name, getattr(net, name))
    return twin


class SparseTables:
    """The big tables' lazy optimizer: one MXNet optimizer object per table.

    SGD and Adam (lazy) update the batch's rows without a row_sparse array:
    their rows of the optimizer states are gathered, the optimizer's dense
    operator updates the compact rows (the same arithmetic as its row_sparse
    kernel, tested bit for bit), and weights and states are scattered back.
    Every step is then asynchronous: building a row_sparse array copies its
    data and indices with ``MXNDArraySyncCopyFromNDArray``, which waits for
    the backward pass (two stalls per table per step, the Python thread idle
    instead of preparing the next batch). AdaGrad and FTRL keep the
    row_sparse path (their sparse kernels are not their dense ones)."""

    def __init__(self, net, tables, optimizer, lr, batch_size, ctx):
        self.weights = [getattr(net, name).weight.data(ctx).as_nd_ndarray() for name in tables]
        self.opt = make_table_optimizer(optimizer, lr, 1.0 / batch_size)
        self.states = [self.opt.create_state(i, w) for i, w in enumerate(self.weights)]
        self.by_rows = optimizer in LAZY_OPTIMIZERS

    def update(self, grads, rows, compact_weights):
        """Apply compact gradients ``grads`` (one per table, (len(rows), width)
        NDArrays) to the rows ``rows`` (int64 (n,) NDArray, distinct);
        ``compact_weights``: those rows' current weights (NDArrays, same shapes
        as ``grads``), updated in place on the row path."""
        for i, (weight, grad) in enumerate(zip(self.weights, grads)):
            if self.by_rows:
                self._update_rows(i, weight, grad, rows, compact_weights[i])
            else:
                sparse = mx.nd.sparse.row_sparse_array((grad, rows), shape=weight.shape, ctx=weight.context)
                self.opt.update(i, weight, sparse, self.states[i])

    def _update_rows(self, i, weight, grad, rows, compact):
        state = self.states[i]
        full = [] if state is None else list(state) if isinstance(state, (tuple, list)) else [state]
        picked = [mx.nd.take(s, rows, axis=0) for s in full]
        compact_state = None if state is None else tuple(picked) if isinstance(state, (tuple, list)) else picked[0]
        self.opt.update(i, compact, grad, compact_state)
        where = rows.reshape((1, -1))
        for target, part in zip([weight] + full, [compact] + picked):
            mx.nd._internal._scatter_set_nd(lhs=target, rhs=part, indices=where, shape=target.shape, out=target)


class SparseFitter(Fitter):
    """``Fitter`` with compact-twin steps and lazy row updates of the tables."""

    def initialize(self):
        """Initialize the model, build its compact twin and the two optimizers.
        Its options (no book-compat) are RunSpec's to check."""
        RunSpec(model=self.kind, config=self.config).validate()
        if is_dist_kvstore(self.kvstore):
            raise DeepFMError("a dist kvstore needs distributed.sparse_worker.DistributedSparseFitter "
                              "(deepfm-gluon launch ... -- train --sparse)")
        import pandas as pd  # only sparse runs need pandas: imported here to keep start-up fast
        self.factorize = pd.factorize  # the batch's distinct ids, in a hash table
        home, tables = self.contexts[0], self.spec.tables
        # the big tables: one copy, on the first device, with no gradient buffer
        self.init_net(self.contexts, sparse_tables=tables)
        self.rows = self.config.batch_size * num_fields_of(self.net)
        self.twin = compact_twin(self.net, self.rows, tables)
        for name in tables:  # the compact tables are overwritten every step
            getattr(self.twin, name).initialize(mx.init.Zero(), ctx=self.contexts, force_reinit=True)
        self.twin_logits = LogitView(self.twin)
        if self.config.hybridize:
            self.twin_logits.hybridize(static_alloc=True, static_shape=True)
        lr = self.learning_rate
        dense = {k: p for k, p in self.twin.collect_params().items()
                 if not any(p is getattr(self.twin, t).weight for t in tables)}
        # one device needs no kvstore; several reduce the dense gradients through it
        decay = {"wd": self.config.dense_l2} if self.config.dense_l2 else {}  # the tables are not in ``dense``
        self.trainer = make_trainer(dense, self.config, lr,
                                    kvstore=None if len(self.contexts) == 1 else self.kvstore, **decay)
        self.tables = SparseTables(self.net, tables, self.config.optimizer, lr, self.config.batch_size, home)
        self.big = [getattr(self.net, t).weight.data(home) for t in tables]
        self.small = [getattr(self.twin, t).weight for t in tables]

    def trained_blocks(self):
        """The twin (its dense blocks are the model's) and the model."""
        return (self.twin, self.net)

    def table_states(self):
        return self.tables

    def step(self, X, y):
        """One compact step on a numpy batch, split over the devices; returns
        [(loss, stats)] per shard like Fitter.step."""
        home = self.contexts[0]
        codes, uniq = self.factorize(np.asarray(X).ravel())
        if len(X) != self.config.batch_size:
            raise DeepFMError(f"sparse updates need full batches of {self.config.batch_size}")
        n = len(uniq)
        rows = _as_array(uniq, np.int64, home)  # zero-copy on cpu(0): no wait for queued operators
        for big, small in zip(self.big, self.small):
            picked = mx.np.take(big, rows, axis=0, out=small.data(home)[:n])  # straight into the twin
            for ctx in self.contexts[1:]:
                picked.copyto(small.data(ctx)[:n])
        codes = codes.reshape(X.shape).astype(np.int32)
        xs, ys = _load(codes, np.int32, self.contexts), _load(np.asarray(y), np.float32, self.contexts)
        with autograd.record():
            outs = []
            for xb, yb in zip(xs, ys):
                logits = self.twin_logits(xb)
                outs.append((self.loss(logits, yb), logits, yb))
        autograd.backward([l for l, _, _ in outs])
        self.trainer.step(len(X))
        grads = []
        for small in self.small:
            parts = [small.grad(ctx)[:n] for ctx in self.contexts]
            total = parts[0]
            for part in parts[1:]:  # same compact codes on every device: rows align
                total = total + part.as_in_context(home)
            grads.append(total.as_nd_ndarray())
        if self.config.embedding_l2:  # lazily, on the rows this batch touches
            grads = add_embedding_l2_compact(grads, [s.data(home)[:n].as_nd_ndarray() for s in self.small],
                                             self.config.embedding_l2, len(X))
        self.tables.update(grads, rows.as_nd_ndarray(), [s.data(home)[:n].as_nd_ndarray() for s in self.small])
        return [(l, self._batch_stats(l, o, yb)) for l, o, yb in outs]
