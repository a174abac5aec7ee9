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
import hashlib
import os
import sys
import traceback

import mxnet as mx
import numpy as np

from .. import gluon_compat
from ..data.batches import BatchIterator
from ..errors import DeepFMError
from ..training.config import KVSTORES, is_dist_kvstore
from ..training.driver import train_epochs
from ..training.loop import Fitter
from ..training.optimizers import make_trainer
from .sharding import per_worker_batch, shard_dataset

DIST_KVSTORES = tuple(k for k in KVSTORES if is_dist_kvstore(k))
# Kvstore key for summing epoch metrics over workers; the Trainer uses 0..P-1.
METRICS_KEY = 1 << 24
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
    """

    def __init__(self, net, kind, config, kv, rank, num_workers):
        super().__init__(net, kind, config, kvstore=kv)
        self.rank, self.num_workers = rank, num_workers
        self.sync = "async" not in kv.type

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
        gluon_compat.init_kvstore_now(trainer, gluon_compat.trainer_scale(trainer) / (per_worker * scale))
        if self.sync:
            self.kvstore.init(METRICS_KEY, mx.nd.zeros((4,), dtype="float64"))
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
        local = mx.nd.array([sums["loss"], sums["correct"], sums["d2l"], seen], dtype="float64")
        total = mx.nd.zeros((4,), dtype="float64")
        self.kvstore.pushpull(METRICS_KEY, local, out=total)
        loss, correct, d2l, seen = total.asnumpy().tolist()
        return {"loss": loss, "correct": correct, "d2l": d2l}, int(round(seen))

    def run_epoch(self, epoch, batches, test, log=None):
        record = super().run_epoch(epoch, batches, test, log)
        record.update(rank=self.rank, workers=self.num_workers, kvstore=self.kvstore.type,
                      train_metrics="all workers" if self.sync else f"rank {self.rank}'s shard")
        return record


def parameter_digest(net):
    """sha256 over every parameter's bytes, by structural name (as in
    save_parameters): equal digests on all workers mean identical models."""
    digest = hashlib.sha256()
    for name, param in sorted(gluon_compat.params_by_structural_name(net).items()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(param.data().asnumpy()).tobytes())
    return digest.hexdigest()


def train_worker(fitter, train, test, log=print, on_epoch=None, checkpoint_dir=None, resume=False,
                 run_args=None):
    """Train a DistributedFitter (not yet initialized) for ``config.epochs``
    epochs on its shard of ``train``; every worker scores the whole ``test``.
    Logs the shard and, at the end, the parameters' digest; returns the History.
    ``checkpoint_dir``: rank 0 writes checkpoints there, every rank resumes from them."""
    kv_type, rank, workers = fitter.kvstore.type, fitter.rank, fitter.num_workers
    if log is not None:
        per_worker = fitter.config.batch_size // workers
        log(f"{kv_type} worker rank {rank} of {workers}: {len(train.labels) // workers} of "
            f"{len(train.labels)} training rows, batch {per_worker} per worker x {workers} "
            f"= {fitter.config.batch_size}")
    history = train_epochs(fitter, train, test, log=log, on_epoch=on_epoch, checkpoint_dir=checkpoint_dir,
                           resume=resume, run_args=run_args, write_checkpoints=rank == 0)
    if log is not None:
        log(f"{kv_type} worker rank {rank}: parameters sha256 {parameter_digest(fitter.net)}")
    return history
