"""A train_ch13-style loop: batches split over contexts, Adam, sigmoid BCE.

What differs from the book, and why:
- the loss sees logits (``LogitView``) unless ``book_compat``: the book's
  Block ends in a sigmoid and its loss adds another;
- metrics are those of ``metrics.METRICS`` (AUC, logloss, normalized
  entropy, calibration ratio, ECE, accuracy at 0.5) over the whole test set
  (the book's rollover test loader scores 2048 of 3000 test lines per epoch);
- examples/sec is measured over the epoch's whole training pass, batch
  preparation included (the book's timer skips data loading);
- the loss is read back every few batches, not after every one, so the
  engine keeps working while Python prepares the next batch; a non-finite
  loss still stops training naming its epoch and batch.

A Fitter trains one epoch at a time; training/driver.py runs the epochs
(checkpoints, resume) and the caller picks the Fitter (dense here, sparse in
training/sparse.py, one worker of a kvstore job in distributed/worker.py).
"""
import random
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, npx

from ..data.batches import BatchIterator, sequential_batches
from ..errors import DeepFMError
from ..models import LogitView
from ..models import get_spec
from .config import is_dist_kvstore
from .contexts import parse_contexts
from .history import History
from .tables import all_finite, init_parameters
from .optimizers import make_trainer
from .metrics import d2l_accuracy, format_scores, prefixed, score, sigmoid, unprefixed
from .objective import TrainingObjective, batch_stats
from .regularization import add_embedding_l2_dense, dense_l2_options

SYNC_EVERY = 8


class TrainingDiverged(DeepFMError):
    """The loss became NaN or infinite."""


def seed_everything(seed):
    """Seed every generator training touches (MXNet's on all contexts)."""
    random.seed(seed)
    np.random.seed(seed)
    mx.random.seed(seed)


def _as_array(batch, dtype, ctx):
    """A numpy batch as an MXNet array on ``ctx``. On cpu(0) MXNet takes over a
    fresh numpy copy without copying again: ``mx.np.array`` copies
    synchronously, and that first waits for every operator already queued,
    so Python could not prepare the next batch while the engine ran the last."""
    fresh = np.array(batch, dtype=dtype, order="C", copy=True)
    if ctx.device_type == "cpu" and ctx.device_id == 0:
        return mx.nd.from_numpy(fresh, zero_copy=True, array_cls=mx.np.ndarray)
    return mx.np.array(fresh, dtype=dtype, ctx=ctx)


def _as_index(batch, ctx):
    return _as_array(batch, np.int32, ctx)


def _load(batch, dtype, contexts):
    """One shard per context; one context needs no splitting."""
    if len(contexts) == 1:
        return [_as_array(batch, dtype, contexts[0])]
    return gluon.utils.split_and_load(batch.astype(dtype), contexts, even_split=False)


def predict_logits(logit_net, features, ctx, batch_size=8192):
    """Logits for every row, in order.

    ``logit_net``: a Block returning logits (e.g. ``LogitView(net)``);
    ``features``: int (n, num_fields) feature indices (numpy); ``ctx``: an
    mx.Context. Returns float32 numpy (n,) logits (empty for n == 0)."""
    outputs = [logit_net(_as_index(chunk, ctx)) for chunk in sequential_batches(features, batch_size)]
    return np.concatenate([o.asnumpy().ravel() for o in outputs]) if outputs else np.empty(0)


def evaluate(logit_net, features, labels, ctx, batch_size=8192):
    """Scores of ``logit_net`` on int (n, num_fields) ``features`` with 0/1
    (n,) ``labels``: a dict of floats, one per ``metrics.METRICS`` name
    ('auc', 'logloss', 'ne', 'calibration', 'ece', 'acc'), plus 'd2l_acc'
    (d2l's exact-equality "accuracy")."""
    logits = predict_logits(logit_net, features, ctx, batch_size)
    probs = sigmoid(logits)
    return {**score(labels, probs, logits), "d2l_acc": d2l_accuracy(labels, probs.astype(np.float32))}


class Fitter:
    """Trains one model, an epoch at a time, on this process's devices.

    ``net``: a model Block (uninitialized is fine); ``kind``: its registered
    name (its ModelSpec gives the rate when ``config.lr`` is None, and the
    embedding tables); ``config``:
    a TrainConfig; ``kvstore``: 'device', 'local' or a local KVStore.
    Call ``initialize()``, then ``run_epoch`` per epoch; ``history`` holds
    the records. Optimizer states stay in this process (checkpoints read them).
    """

    def __init__(self, net, kind, config, kvstore="device"):
        self.net, self.kind, self.config = net, kind, config
        self.contexts = parse_contexts(config.devices)
        self.logit_net = LogitView(net)
        self.loss = gluon.loss.SigmoidBinaryCrossEntropyLoss()
        # the step's forward pass, loss and read-back statistics as one graph (training/objective.py)
        self.objective = TrainingObjective(net if config.book_compat else self.logit_net, self.loss,
                                           config.book_compat)
        self.kvstore = kvstore
        self.trainer = None
        self.seed_offset = 0  # distributed workers shift it so their dropout masks differ
        self.history = History(kind, "book-compat" if config.book_compat else "correct",
                               [str(c) for c in self.contexts], config.to_dict())

    @property
    def spec(self):
        """The ModelSpec of ``kind`` (models/registry.py): tables, lr, output bias."""
        return get_spec(self.kind)

    @property
    def learning_rate(self):
        """The configured rate, else the model's (``ModelSpec.lr``; the book's for FM and DeepFM)."""
        return self.config.lr if self.config.lr is not None else self.spec.lr

    def init_net(self, contexts, sparse_tables=()):
        """Numpy mode, seeds, Xavier init and hybridization: every fitter starts so.
        ``sparse_tables``: child tables updated elsewhere (no gradient buffer; see training/tables.py)."""
        npx.set_np()  # the blocks use numpy semantics, whoever calls fit
        seed_everything(self.config.seed)
        init_parameters(self.net, contexts, sparse_tables)
        if self.config.hybridize:
            self.net.hybridize(static_alloc=True, static_shape=True)
            self.logit_net.hybridize(static_alloc=True, static_shape=True)
            self.objective.hybridize(static_alloc=True, static_shape=True)

    def initialize(self):
        """Initialize the parameters and create the Trainer."""
        if is_dist_kvstore(self.kvstore):
            raise DeepFMError("a dist kvstore needs distributed.worker.DistributedFitter")
        self.init_net(self.contexts)
        # Local updates keep optimizer states in this process, where checkpoints can reach them.
        decay = dense_l2_options(self.net, get_spec(self.kind).tables, self.config.dense_l2)
        self.trainer = make_trainer(self.net.collect_params(), self.config, self.learning_rate,
                                    kvstore=self.kvstore, **decay)

    # --- what checkpoints read and restore (training/checkpoint.py), every fitter alike ---

    def trained_blocks(self):
        """The Blocks whose parameters the Trainer steps: checkpoints name the
        Trainer's states by these Blocks' structural names."""
        return (self.net,)

    @property
    def leads(self):
        """Whether this process scores validation, keeps the best weights and
        writes checkpoints: always here, rank 0 alone in a distributed job."""
        return True

    def share_stopping(self, state):
        """The early-stopping ``state`` (a dict of numbers or None) every process
        of the run acts on: the leader's. One process: ``state`` itself."""
        return state

    def table_states(self):
        """The embedding tables' own optimizer in this process, or None when the
        Trainer updates every parameter. When not None: ``.opt`` (an mx
        Optimizer, its update counts) and ``.states`` (one state per table,
        NDArrays written in place on restore; see training/sparse.py SparseTables)."""
        return None

    def make_batches(self, train):
        """The shuffled, rollover batch order over ``train`` (.features int
        (n, num_fields), .labels (n,)) that ``run_epoch`` consumes."""
        return BatchIterator(train.features, train.labels, self.config.batch_size, shuffle=True,
                             last_batch="rollover", seed=self.config.seed)

    def train_epoch(self, batches, epoch, progress=None):
        """One pass over ``batches``; returns the epoch's training numbers."""
        sums = {"loss": 0.0, "correct": 0.0, "d2l": 0.0}
        pending, seen = [], 0
        for batch_no, (X, y) in enumerate(batches, start=1):
            shards = self.step(X, y)
            pending.append((batch_no, [stats for _, stats in shards]))
            seen += len(X)
            if len(pending) >= SYNC_EVERY:
                self._drain(pending, sums, epoch)
            if progress is not None:
                progress.update(1)
        self._drain(pending, sums, epoch)
        return sums, seen

    def step(self, X, y):
        """One optimizer step on a numpy batch (X int (b, num_fields), y (b, 1)),
        split over the contexts; returns (loss, stats) per shard: the shard's
        per-example loss and its float32 statistics (``objective.batch_stats``)."""
        xs, ys = _load(X, np.int32, self.contexts), _load(y, np.float32, self.contexts)
        with autograd.record():
            outs = [self.objective(xb, yb) for xb, yb in zip(xs, ys)]
        autograd.backward([l for l, _ in outs])
        if self.config.embedding_l2:  # counted once: the Trainer sums the contexts' gradients
            add_embedding_l2_dense(self.net, self.spec.tables, X, self.config.embedding_l2, len(X),
                                   self.contexts[0])
        self.trainer.step(len(X))
        return outs

    def _batch_stats(self, l, out, y):
        """Loss sum, correct at 0.5 and (book-compat) d2l's exact-equality count, eagerly
        (fitters whose step does not run ``self.objective``)."""
        return batch_stats(mx, l, out, y, self.config.book_compat)

    def _drain(self, pending, sums, epoch):
        for batch_no, stats in pending:
            total = sum(s.asnumpy() for s in stats)
            if not np.isfinite(total[0]):
                raise TrainingDiverged(f"loss is {total[0]} at epoch {epoch}, batch {batch_no}; "
                                       "lower the learning rate or check the input")
            sums["loss"] += float(total[0])
            sums["correct"] += float(total[1])
            sums["d2l"] += float(total[2]) if len(total) > 2 else 0.0
        pending.clear()

    def check_finite_parameters(self, epoch):
        """Refuse to checkpoint parameters that the last update made NaN or infinite."""
        for name, param in self.net.collect_params().items():
            if not all_finite(param.data(self.contexts[0])):
                raise TrainingDiverged(f"parameter {name} is not finite after epoch {epoch}; "
                                       "the previous checkpoint is kept")

    def run_epoch(self, epoch, batches, test, log=None):
        """Train one epoch over ``batches`` (from ``make_batches``), score on
        ``test`` (.features, .labels), append the record (a dict) to
        ``history`` and return it; ``log(line)`` gets a one-line summary."""
        progress = None
        if self.config.progress:
            from tqdm.auto import tqdm  # imported here to keep start-up fast: ~40 ms, often unused
            progress = tqdm(total=len(batches), desc=f"{self.kind} epoch {epoch}", leave=False)
        # Dropout draws from MXNet's generator, whose state cannot be saved: reseeding
        # per epoch makes a resumed epoch identical to the uninterrupted one.
        mx.random.seed(self.config.seed * 100003 + epoch + self.seed_offset)
        start = time.perf_counter()
        sums, seen = self.train_epoch(batches, epoch, progress)
        train_seconds = time.perf_counter() - start
        if progress is not None:
            progress.close()
        scores = evaluate(self.logit_net, test.features, test.labels, self.contexts[0],
                          self.config.eval_batch_size)
        record = {"epoch": epoch, "train_loss": sums["loss"] / max(seen, 1),
                  "train_acc": sums["correct"] / max(seen, 1), **prefixed(scores, "test_"),
                  "examples_per_sec": seen / train_seconds, "train_seconds": train_seconds}
        if self.config.book_compat:
            record["book_train_acc"] = sums["d2l"] / max(seen, 1)
            record["book_test_acc"] = scores["d2l_acc"]
        self.history.epochs.append(record)
        if log is not None:
            log(format_epoch(self.kind, record, self.config.epochs))
        return record


def format_epoch(kind, r, total_epochs):
    line = (f"{kind} epoch {r['epoch']}/{total_epochs}: train loss {r['train_loss']:.4f}, "
            f"train acc {r['train_acc']:.3f}, {format_scores(unprefixed(r, 'test_'), 'test ')}, "
            f"{r['examples_per_sec']:.0f} examples/sec (whole epoch, data included)")
    if "book_train_acc" in r:
        line += f" | book: train acc {r['book_train_acc']:.3f}, test acc {r['book_test_acc']:.3f}"
    return line
