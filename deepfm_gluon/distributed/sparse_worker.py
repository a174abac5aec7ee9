"""Sparse training across workers, the parameter-server way.

The embedding tables live on the servers as integer row_sparse keys
(``TABLE_KEY_BASE + t``: string keys collide with the Trainer's integer
keys, "Mixed key types are not allowed"); the servers run the tables'
optimizer (RoutedOptimizer: lazy Adam, SGD, AdaGrad or FTRL). A step on a
worker, with the compact twin of training/sparse.py:

1. the per-worker batch's distinct ids ``uniq`` (sorted, as the pull returns them);
2. ``kv.row_sparse_pull`` of those rows of each table into the twin;
3. forward/backward on the twin; the dense blocks (MLP, linear layer) go
   through the Trainer as in DistributedFitter;
4. ``kv.push`` of the compact gradients as row_sparse gradients.

In dist_sync a push completes once the servers applied every worker's push,
so the next pull sees the updated rows; the servers sum the workers' rows
and update once, like one process with the global batch (rescale 1/B).
``nn.Embedding(sparse_grad=True)`` is not used: on a dist kvstore it pulls
dense weights; and numpy mode rejects stype='row_sparse' parameters, so the
tables are legacy arrays on the kvstore only.

Initial values: every worker builds the model with the same seed; rank 0's
tables initialise the keys (the others send an empty value, which the server
ignores). Rank 0 pulls every row into its model before it evaluates (only
rank 0 evaluates), every worker after the last epoch (digests agree).

Checkpoints (dist_sync): after each epoch every worker writes its batch
order, the servers write their tables' optimizer states (``DFM SAVE``: only
they can reach them), and rank 0 writes the usual checkpoint (the model
with the tables it just pulled, the dense Trainer's states, the history).
A resumed job loads the model before the keys are initialised, so the
servers start from the saved tables, then ``DFM LOAD`` puts the states back.
"""
import os
from functools import partial

import mxnet as mx
import numpy as np
from mxnet import autograd

from .. import gluon_compat
from ..errors import DeepFMError
from ..models import LogitView
from ..training.checkpoint import read_latest
from ..training.optimizers import make_optimizer, make_table_optimizer, make_trainer
from ..training.sparse import compact_twin, num_fields_of
from .ps_optimizer import RoutedOptimizer, send_optimizer
from .ps_server import server_count_problem
from .sharding import per_worker_batch
from .worker import DistributedFitter

TABLE_KEY_BASE = 1 << 20   # beyond the Trainer's indices 0..P-1, below METRICS_KEY (1 << 24)
PULL_CHUNK = 1 << 20       # rows per pull when rank 0 gathers a whole table


def _servers_folder(checkpoint_dir, epoch):
    return os.path.join(checkpoint_dir, "servers", f"epoch-{epoch:04d}")


class DistributedSparseFitter(DistributedFitter):
    """A worker of a parameter-server sparse job (see the module doc); one device per worker.
    ``checkpoint_dir``: checkpoints after every epoch (dist_sync); ``resume``: from its latest."""

    def __init__(self, net, kind, config, kv, rank, num_workers, checkpoint_dir=None, resume=False):
        super().__init__(net, kind, config, kv, rank, num_workers, checkpoint_dir, resume)
        self._resumed = None  # (epoch, checkpoint folder) when resuming

    def initialize(self):
        # the model's tables are only read (evaluation, the saved model): no gradient buffers,
        # and large ones filled a slice at a time (training/tables.py), as in one process
        tables = self.spec.tables
        self.init_net(self.contexts[:1], sparse_tables=tables)
        if self.resume:  # before the keys are initialised: the servers start from the saved tables
            path, state = read_latest(self.checkpoint_dir)
            gluon_compat.load_parameters_in_place(self.net, os.path.join(path, "model.params"))
            self._resumed = (state["epoch"], path)
            problem = server_count_problem(self.checkpoint_dir, int(os.environ.get("DMLC_NUM_SERVER", "1")))
            if problem:  # `launch` refuses it first; a job started by hand gets the same line
                raise DeepFMError(problem)
        kv, rank, workers = self.kvstore, self.rank, self.num_workers
        self.per_worker = per_worker_batch(self.config.batch_size, workers)
        self.twin = compact_twin(self.net, self.per_worker * num_fields_of(self.net), tables)
        for name in tables:  # the compact tables are overwritten every step
            getattr(self.twin, name).initialize(mx.init.Zero(), force_reinit=True)
        self.twin_logits = LogitView(self.twin)
        if self.config.hybridize:
            self.twin_logits.hybridize(static_alloc=True, static_shape=True)
        self.ps_tables = []  # (key, the model's table, the twin's compact table)
        for t, name in enumerate(tables):
            big = getattr(self.net, name).weight
            key, shape = TABLE_KEY_BASE + t, big.shape
            if rank == 0:  # every row: the server sizes its array by the rows sent
                value = mx.nd.sparse.row_sparse_array(
                    (big.data().as_nd_ndarray(), mx.nd.arange(shape[0], dtype=np.int64)), shape=shape)
            else:  # only rank 0's value is sent
                value = mx.nd.sparse.zeros("row_sparse", shape)
            kv.init(key, value)
            del value  # a full-table copy; the kvstore's send buffer keeps it until the first push
            self.ps_tables.append((key, big, getattr(self.twin, name).weight))
        mx.nd.waitall()
        lr, name = self.learning_rate, self.config.optimizer
        table_opt = make_table_optimizer(name, lr, 1.0 / (self.config.batch_size if self.sync else self.per_worker))
        keys = [key for key, _, _ in self.ps_tables]
        dense = {k: p for k, p in self.twin.collect_params().items()
                 if not any(p is small for _, _, small in self.ps_tables)}
        scale = workers if self.sync else 1
        if self.sync:  # servers: tables updated, dense keys summed; dense Adam on every worker
            if rank == 0:  # as JSON (ps_optimizer.py), not kv.set_optimizer's pickle
                send_optimizer(kv, RoutedOptimizer(table_opt, None, keys))
            gluon_compat.kvstore_barrier(kv)
            trainer = make_trainer(dense, self.config, lr, kvstore=kv, batch_scale=scale)
        else:  # dist_async: Gluon sends the Trainer's optimizer itself, so it is the routed one
            routed = RoutedOptimizer(table_opt, make_optimizer(name, lr), keys)
            trainer = make_trainer(dense, self.config, lr, kvstore=kv, update_on_kvstore=True,
                                   batch_scale=scale, optimizer=routed)
        gluon_compat.init_kvstore_now(trainer, gluon_compat.trainer_scale(trainer) / (self.per_worker * scale),
                                      send_optimizer=partial(send_optimizer, kv))
        self.init_shared_keys()
        mx.nd.waitall()
        gluon_compat.kvstore_barrier(kv)
        if self._resumed is not None:
            if rank == 0:
                gluon_compat.send_server_command(kv, "DFM LOAD " + _servers_folder(self.checkpoint_dir,
                                                                                  self._resumed[0]))
            gluon_compat.kvstore_barrier(kv)
        self.trainer = trainer
        self.seed_offset = 1000003 * rank
        self.distinct_rows = []  # per step: the rows pulled and pushed (bytes = rows * (width * 4 + 8))

    def trained_blocks(self):
        """The twin (its dense blocks are the model's) and the model."""
        return (self.twin, self.net)

    def step(self, X, y):
        """One step on this worker's numpy batch; returns [(loss, stats)] like Fitter.step."""
        uniq, codes = np.unique(np.asarray(X), return_inverse=True)
        n = len(uniq)
        rows = mx.nd.array(uniq, dtype=np.int64)
        for key, big, small in self.ps_tables:
            out = mx.nd.sparse.zeros("row_sparse", big.shape)
            self.kvstore.row_sparse_pull(key, out=out, row_ids=rows)
            small.data()[:n] = out.data.as_np_ndarray()
        xb = mx.np.array(codes.reshape(np.shape(X)), dtype=np.int32)
        yb = mx.np.array(y, dtype=np.float32)
        with autograd.record():
            logits = self.twin_logits(xb)
            loss = self.loss(logits, yb)
        loss.backward()
        self.trainer.step(len(X))
        for key, big, small in self.ps_tables:
            grad = small.grad()[:n].as_nd_ndarray()
            self.kvstore.push(key, mx.nd.sparse.row_sparse_array((grad, rows), shape=big.shape))
        self.distinct_rows.append(n)
        return [(loss, self._batch_stats(loss, logits, yb))]

    def pull_tables(self):
        """Every row of the servers' tables into this worker's model, a chunk at a time."""
        for key, big, _ in self.ps_tables:
            target = big.data()
            for lo in range(0, big.shape[0], PULL_CHUNK):
                hi = min(lo + PULL_CHUNK, big.shape[0])
                out = mx.nd.sparse.zeros("row_sparse", big.shape)
                self.kvstore.row_sparse_pull(key, out=out, row_ids=mx.nd.arange(lo, hi, dtype=np.int64))
                target[lo:hi] = out.data.as_np_ndarray()
        mx.nd.waitall()

    def train_epoch(self, batches, epoch, progress=None):
        """Train, then gather the tables where they are read: rank 0 evaluates
        every epoch, every worker's model is complete after the last."""
        result = super().train_epoch(batches, epoch, progress)
        if self.rank == 0 or epoch == self.config.epochs:
            self.pull_tables()
        return result

    def save_server_state(self, epoch):
        """The servers write their tables' optimizer states (only they can reach them)."""
        if self.rank == 0:
            gluon_compat.send_server_command(self.kvstore,
                                             "DFM SAVE " + _servers_folder(self.checkpoint_dir, epoch))
        gluon_compat.kvstore_barrier(self.kvstore)

    def train_and_score(self, epoch, batches, test, log=None):
        """Only rank 0 evaluates; the others' records carry no test numbers."""
        if self.rank == 0:
            return super().train_and_score(epoch, batches, test, log)
        mx.random.seed(self.config.seed * 100003 + epoch + self.seed_offset)
        sums, seen = self.train_epoch(batches, epoch)
        record = {"epoch": epoch, "train_loss": sums["loss"] / max(seen, 1),
                  "train_acc": sums["correct"] / max(seen, 1), "test_auc": None}
        self.history.epochs.append(record)
        return record
