"""The worker side of a kvstore job: join it, train on this worker's shard.

How the numbers stay those of one process with the same global batch B:
- dist_sync: the servers only sum gradients (``update_on_kvstore=False``);
  every worker pulls the same sum and runs the same Adam step on it, so
  parameters stay bit-identical across workers. Gluon divides the gradient
  by what ``step`` is given, so each step is given B, not B / W;
- dist_async: the servers run the optimizer (MXNet requires it) on each
  worker's push as it comes, so each step is one update with the
  per-worker batch;
- training loss/accuracy are summed over all workers through the kvstore
  (dist_sync); test metrics are computed on the whole test set, which every
  worker holds and scores with identical parameters;
- the kvstore and rank 0's initial weights are set up before the first
  forward pass, not lazily in the first step (a race, see initialize).
"""
import contextlib
from functools import partial
import hashlib
import json
import os
import sys
import traceback

import mxnet as mx
import numpy as np

from .. import gluon_compat
from ..atomic import atomic_write_json
from ..data.batches import BatchIterator
from ..errors import DeepFMError
from ..training.config import KVSTORES, is_dist_kvstore
from ..training.driver import train_epochs
from ..training.loop import Fitter
from ..training.optimizers import make_trainer
from .ps_optimizer import send_optimizer
from .sharding import per_worker_batch, shard_dataset

DIST_KVSTORES = tuple(k for k in KVSTORES if is_dist_kvstore(k))
# The kvstore key every worker sums into (the Trainer uses 0..P-1): the epoch's
# metrics in slots 0-3, rank 0's early-stopping numbers in slots 4-7, one use at a
# time. One key, not two: a second one past 1 << 24 lands on a server whose key
# range it exceeds (ps-lite's check "ps_key < krs[server].end()") with 2 servers.
METRICS_KEY = 1 << 24
METRICS = ("loss", "correct", "d2l", "seen")
STOP_FIELDS = ("best_epoch", "best_value", "wait", "peak_value")  # EarlyStopping's numbers
SHARED_SLOTS = len(METRICS) + len(STOP_FIELDS)
LAUNCH_HINT = "start it with: deepfm-gluon launch --workers N --servers M -- train ..."


def join_job(kvstore_type, global_batch=None):
    """Create the dist kvstore (connects to the scheduler); returns (kv, rank, num_workers).

    ``kvstore_type``: 'dist_sync' or 'dist_async'; ``global_batch``: the
    batch summed over all workers (checked to split evenly).

    Checks the DMLC_* environment first: without it MXNet would wait for a
    scheduler that does not exist.
    """
    if kvstore_type not in DIST_KVSTORES:
        raise DeepFMError(f"--kvstore {kvstore_type}: expected one of {', '.join(DIST_KVSTORES)}")
    missing = [name for name in ("DMLC_ROLE", "DMLC_PS_ROOT_URI", "DMLC_PS_ROOT_PORT",
                                 "DMLC_NUM_SERVER", "DMLC_NUM_WORKER") if not os.environ.get(name)]
    if missing:
        raise DeepFMError(f"--kvstore {kvstore_type} needs the job environment ({', '.join(missing)} "
                          f"unset); {LAUNCH_HINT}")
    if os.environ["DMLC_ROLE"] != "worker":
        raise DeepFMError(f"DMLC_ROLE is {os.environ['DMLC_ROLE']!r}; training runs as a worker")
    if global_batch is not None:  # fail before connecting, so the launcher stops the job at once
        per_worker_batch(global_batch, int(os.environ["DMLC_NUM_WORKER"]))
    kv = mx.kv.create(kvstore_type)
    return kv, kv.rank, kv.num_workers


@contextlib.contextmanager
def exit_on_error():
    """Turn an error in a worker into an immediate exit (code 2 for a
    DeepFMError, printed like the CLI does; 1 otherwise, with traceback).

    A worker that raises and exits normally never ends: at exit MXNet waits
    for its pending pushes and pulls, which wait for peers that are stuck
    too, and ps-lite's finalize is a barrier over all of them. Seen: two
    workers whose loss went NaN hung until the launcher's --timeout.
    """
    try:
        yield
    except (Exception, KeyboardInterrupt) as err:
        if isinstance(err, DeepFMError):
            print(f"deepfm-gluon train: error: {err}", file=sys.stderr)
            code = 2
        else:
            traceback.print_exc()
            code = 130 if isinstance(err, KeyboardInterrupt) else 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


class DistributedFitter(Fitter):
    """A Fitter for one worker of a dist kvstore job (see the module doc).

    ``kv``: the job's KVStore (from ``join_job``; a 'local' one trains like a
    one-worker job); ``rank``: this worker, 0..num_workers-1. It trains on its
    shard of the training set with ``config.batch_size // num_workers`` rows a step.

    Checkpoints (``checkpoint_dir``, dist_sync): after every epoch each worker
    writes its batch order (its shard's shuffle) and waits for the others;
    then rank 0 writes the checkpoint (parameters and Trainer states are the
    same on every worker). ``resume``: every worker loads rank 0's
    checkpoint, then its own batch order.
    """

    def __init__(self, net, kind, config, kv, rank, num_workers, checkpoint_dir=None, resume=False):
        super().__init__(net, kind, config, kvstore=kv)
        self.rank, self.num_workers = rank, num_workers
        self.sync = "async" not in kv.type
        self.checkpoint_dir, self.resume = checkpoint_dir, resume
        self._epochs_run_here = 0

    @property
    def leads(self):
        return self.rank == 0

    def init_shared_keys(self):
        """The kvstore key every worker sums into (dist_sync): epoch metrics, the stop decision."""
        if self.sync:
            self.kvstore.init(METRICS_KEY, mx.nd.zeros((SHARED_SLOTS,), dtype="float64"))

    def sum_over_workers(self, metrics=(0.0,) * len(METRICS), stop=(0.0,) * len(STOP_FIELDS)):
        """Every worker's ``metrics`` and ``stop`` numbers, summed (dist_sync):
        returns the two summed lists."""
        total = mx.nd.zeros((SHARED_SLOTS,), dtype="float64")
        self.kvstore.pushpull(METRICS_KEY, mx.nd.array([*metrics, *stop], dtype="float64"), out=total)
        values = total.asnumpy().tolist()
        return values[:len(METRICS)], values[len(METRICS):]

    def share_stopping(self, state):
        """Rank 0's early-stopping numbers to every worker: rank 0 pushes them,
        the others push zeros, all pull the sum (x + 0.0 is x, exactly)."""
        if not self.sync:
            raise DeepFMError("early stopping in distributed training needs dist_sync")
        mine = [np.nan if state[k] is None else float(state[k]) for k in STOP_FIELDS] if self.leads \
            else [0.0] * len(STOP_FIELDS)
        _, values = self.sum_over_workers(stop=mine)
        shared = {k: (None if np.isnan(v) else v) for k, v in zip(STOP_FIELDS, values)}
        for k in ("best_epoch", "wait"):
            shared[k] = None if shared[k] is None else int(round(shared[k]))
        return {**state, **shared}

    def initialize(self):
        """Initialize like every fitter, then set the kvstore up before any forward pass."""
        self.init_net(self.contexts)
        # Same optimizer and rate as the base Fitter; only kvstore use differs.
        scale = self.num_workers if self.sync else 1
        trainer = make_trainer(self.net.collect_params(), self.config, self.learning_rate,
                               kvstore=self.kvstore, update_on_kvstore=not self.sync, batch_scale=scale)
        # Gluon sets up the kvstore inside the first step(), after that step's
        # backward, so the pull of rank 0's initial weights can run after the
        # first gradient push to the same key and return a gradient sum as the
        # weights (seen: 1 job in 6 under load, workers diverged). Set it up
        # here, before any forward pass, and wait. The rescale must be final
        # before the optimizer is sent.
        per_worker = self.config.batch_size // self.num_workers
        gluon_compat.init_kvstore_now(trainer, gluon_compat.trainer_scale(trainer) / (per_worker * scale),
                                      send_optimizer=partial(send_optimizer, self.kvstore))
        self.init_shared_keys()
        mx.nd.waitall()
        self.trainer = trainer
        # Every worker was seeded alike (same initial weights); dropout must
        # not draw the same masks on every worker's half of the batch.
        self.seed_offset = 1000003 * self.rank  # the per-epoch reseed adds it

    def make_batches(self, train):
        """This worker's shard of ``train``, in per-worker batches, its own shuffle."""
        shard = shard_dataset(train, self.rank, self.num_workers)
        batch = per_worker_batch(self.config.batch_size, self.num_workers)
        return BatchIterator(shard.features, shard.labels, batch, shuffle=True,
                             last_batch="rollover", seed=self.config.seed + self.rank)

    def train_epoch(self, batches, epoch, progress=None):
        sums, seen = super().train_epoch(batches, epoch, progress)
        if not self.sync:
            return sums, seen
        (loss, correct, d2l, seen), _ = self.sum_over_workers([sums["loss"], sums["correct"], sums["d2l"], seen])
        return {"loss": loss, "correct": correct, "d2l": d2l}, int(round(seen))

    def run_epoch(self, epoch, batches, test, log=None):
        """Train (and score: ``train_and_score``) one epoch; with checkpoints,
        every worker's batch order and the servers' states (``save_server_state``)
        are written before rank 0's checkpoint, which points at them."""
        if self.resume and self.rank != 0 and self._epochs_run_here == 0 and epoch > 1:
            with open(rank_batches_file(self.checkpoint_dir, epoch - 1, self.rank)) as f:
                batches.set_state(json.load(f))  # the driver restored rank 0's order
        self._epochs_run_here += 1
        record = self.train_and_score(epoch, batches, test, log)
        record.update(rank=self.rank, workers=self.num_workers, kvstore=self.kvstore.type,
                      train_metrics="all workers" if self.sync else f"rank {self.rank}'s shard")
        if self.checkpoint_dir is not None:
            if not self.sync:
                raise DeepFMError("checkpoints of distributed jobs need dist_sync (use --no-checkpoints)")
            mine = rank_batches_file(self.checkpoint_dir, epoch, self.rank)
            os.makedirs(os.path.dirname(mine), exist_ok=True)
            atomic_write_json(mine, batches.state())
            gluon_compat.kvstore_barrier(self.kvstore)
            self.save_server_state(epoch)
        return record

    def train_and_score(self, epoch, batches, test, log=None):
        """One epoch of the base Fitter: every worker scores the test set."""
        return super().run_epoch(epoch, batches, test, log)

    def save_server_state(self, epoch):
        """Servers that only sum gradients hold nothing to save."""


def rank_batches_file(checkpoint_dir, epoch, rank):
    """Where worker ``rank`` writes its batch order after ``epoch``."""
    return os.path.join(checkpoint_dir, "ranks", f"epoch-{epoch:04d}-rank{rank}.json")


def parameter_digest(net):
    """sha256 over every parameter's bytes, by structural name (as in
    save_parameters): equal digests on all workers mean identical models."""
    digest = hashlib.sha256()
    for name, param in sorted(gluon_compat.params_by_structural_name(net).items()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(param.data().asnumpy()).tobytes())
    return digest.hexdigest()


def train_worker(fitter, train, test, log=print, on_epoch=None, checkpoint_dir=None, resume=False,
                 run_args=None, validation=None):
    """Train a DistributedFitter (not yet initialized) for ``config.epochs``
    epochs on its shard of ``train``; every worker scores the whole ``test``.
    Logs the shard and, at the end, the parameters' digest; returns the History.
    ``checkpoint_dir``: rank 0 writes checkpoints there, every rank resumes from them.
    ``validation``: rank 0 scores it; early stopping (``config.early_stop``)
    stops every worker after the same epoch and rank 0 saves the best one."""
    kv_type, rank, workers = fitter.kvstore.type, fitter.rank, fitter.num_workers
    if log is not None:
        per_worker = fitter.config.batch_size // workers
        log(f"{kv_type} worker rank {rank} of {workers}: {len(train.labels) // workers} of "
            f"{len(train.labels)} training rows, batch {per_worker} per worker x {workers} "
            f"= {fitter.config.batch_size}")
    history = train_epochs(fitter, train, test, log=log, on_epoch=on_epoch, checkpoint_dir=checkpoint_dir,
                           resume=resume, run_args=run_args, validation=validation)
    if log is not None:
        log(f"{kv_type} worker rank {rank}: parameters sha256 {parameter_digest(fitter.net)}")
    return history
