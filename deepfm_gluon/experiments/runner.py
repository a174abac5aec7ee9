"""One training run from data to a model directory.

``train_model`` is THE training entry point: `deepfm-gluon train`, compare,
reproduce, sweep, tune, the README's Python example and the notebooks all
train through it. Underneath, ``run`` carries out the RunSpec it builds, and
``training.fit`` / ``training.train_epochs`` are the epoch loop it drives
(building blocks for tests and benchmarks that hold a net already).

This is where the fitter is chosen: ``Fitter`` (dense, this process's
devices), ``SparseFitter`` (row-sparse embedding updates) or, on a dist
kvstore, a ``DistributedFitter`` for this worker, driven by the worker loop.
"""
import contextlib
import dataclasses
import json
import os
import time

from ..atomic import atomic_write_json
from ..distributed.sparse_worker import DistributedSparseFitter
from ..distributed.worker import DistributedFitter, exit_on_error, join_job, train_worker
from ..errors import DeepFMError
from ..models import build_model
from ..serving.model_dir import save_model_dir
from ..training.config import AUTO_SPARSE_ROWS, RunSpec
from ..training.driver import train_epochs
from ..training.loop import Fitter
from ..training.metrics import unprefixed
from ..training.plotting import plot_histories
from ..training.sparse import SparseFitter


def train_model(kind, split, config, out_dir=None, model_overrides=None, log=print,
                checkpoint_dir=None, resume=False, run_args=None, kvstore="device", on_epoch=None):
    """The training entry point: train ``kind`` (a registered model name,
    models/registry.py) on ``split`` (a DataSplit: .train and .test data sets
    with int (n, num_fields) features, (n,) labels, field_dims; .validation
    for early stopping) with ``config`` (a TrainConfig) and the model's
    defaults updated by ``model_overrides`` (its hyperparameters, checked by
    its ModelSpec); returns (net, History, seconds).

    With ``out_dir``, writes model.params, meta.json, mapping.json,
    history.json and curves.png there. ``checkpoint_dir``/``resume``: see
    ``training.driver.train_epochs``. ``kvstore`` 'dist_sync'/'dist_async'
    joins the job `deepfm-gluon launch` started and trains this worker's
    shard; only rank 0 writes ``out_dir``. ``on_epoch(fitter, record)`` runs
    after each epoch (tuning reports validation metrics through it).
    """
    spec = RunSpec(model=kind, config=config, model_overrides=dict(model_overrides or {}),
                   kvstore=kvstore, checkpoint_dir=checkpoint_dir, resume=resume, out_dir=out_dir)
    return run(spec, split, log=log, run_args=run_args, on_epoch=on_epoch)


def run(spec, split, log=print, run_args=None, on_epoch=None):
    """Carry out a RunSpec on ``split`` (validated first); returns (net, History, seconds)."""
    spec = fit_batch_to_data(spec, len(split.train.labels), log)
    spec = resolve_updates(spec, split.train.field_dims, log).validate()
    check_one_batch(spec, split)
    net = build_model(spec.model, split.train.field_dims, **spec.model_overrides)
    fitter = choose_fitter(spec, net)  # a distributed one joins the job here
    guard = exit_on_error() if spec.distributed else contextlib.nullcontext()
    with guard:  # a failed dist worker must exit at once, not hang at exit
        start = time.perf_counter()
        if spec.distributed:
            history = train_worker(fitter, split.train, split.test, log=log,
                                   checkpoint_dir=spec.checkpoint_dir, resume=spec.resume, run_args=run_args,
                                   validation=split.validation)
        else:
            history = train_epochs(fitter, split.train, split.test, log=log,
                                   checkpoint_dir=spec.checkpoint_dir, resume=spec.resume,
                                   run_args=run_args, validation=split.validation, on_epoch=on_epoch)
        seconds = time.perf_counter() - start
        rank = fitter.rank if spec.distributed else 0
        if spec.out_dir is not None and rank == 0:
            save_outputs(spec.out_dir, net, spec.model, split, history, seconds)
    return net, history, seconds


def fit_batch_to_data(spec, lines, log=print):
    """With ``config.min_steps_per_epoch`` = S > 0 (a preset's batch, not a
    typed one), a batch that leaves fewer than S steps per epoch over ``lines``
    training lines is replaced by the largest power of two that leaves at
    least S (at least 1), said in one line: BARS's 4096 on 4,800 lines is one
    Adam step an epoch, and early stopping would end with nothing learnt.
    Returns the RunSpec (unchanged when the batch is small enough)."""
    config = spec.config
    steps, batch = config.min_steps_per_epoch, config.batch_size
    if steps <= 0 or spec.distributed or lines // batch >= steps:
        return spec
    smaller = 1 << max(0, (lines // steps).bit_length() - 1)
    if log is not None:
        log(f"note: batch {batch} leaves {lines // batch} step(s) per epoch on {lines:,} training lines, "
            f"too few to learn before early stopping; using batch {smaller} ({lines // smaller} steps, "
            f"at least {steps}); a typed --batch-size is kept")
    return dataclasses.replace(spec, config=dataclasses.replace(config, batch_size=smaller))


def check_one_batch(spec, split):
    """Refuse a training set smaller than one batch: batches are full-size, so
    it would train with zero updates (docs/reliability.md). Distributed
    workers check their shard in the worker loop."""
    lines, batch = len(split.train.labels), spec.config.batch_size
    if not spec.distributed and lines < batch:
        where = getattr(split.train, "data_path", None) or "the training data"
        raise DeepFMError(f"{where}: {lines} training lines, fewer than one batch of {batch}; "
                          f"pass --batch-size {lines} or less")


def resolve_updates(spec, field_dims, log=print):
    """The one place where ``config.sparse=None`` (no --sparse/--no-sparse) is
    decided: sparse updates when the embedding table has more than
    ``AUTO_SPARSE_ROWS`` rows, said in one line; dense when it is smaller, or
    when the run needs what sparse updates do not offer yet (then the line
    says which). Returns the RunSpec with ``config.sparse`` True or False."""
    config = spec.config
    if config.sparse is not None:
        return spec
    dense = dataclasses.replace(spec, config=dataclasses.replace(config, sparse=False))
    rows = int(sum(int(d) for d in field_dims))
    if rows <= AUTO_SPARSE_ROWS:
        return dense
    sparse = dataclasses.replace(spec, config=dataclasses.replace(config, sparse=True))
    note = ""
    if sparse.problem() and spec.checkpoint_dir is not None and not spec.resume:
        sparse, note = dataclasses.replace(sparse, checkpoint_dir=None), ", without checkpoints"
    problem = sparse.problem()
    say = log if log is not None else (lambda message: None)
    if problem:
        say(f"embedding table: {rows:,} rows > {AUTO_SPARSE_ROWS:,}, but dense updates: {problem}")
        return dense
    say(f"embedding table: {rows:,} rows > {AUTO_SPARSE_ROWS:,}: sparse updates "
        f"(lazy {config.optimizer}{note}); --no-sparse for dense")
    return sparse


def choose_fitter(spec, net):
    """The fitter for ``spec``: distributed (joins the kvstore job; sparse
    = the parameter-server way), sparse or dense."""
    if spec.distributed:
        kv, rank, num_workers = join_job(spec.kvstore, spec.config.batch_size)
        if spec.config.sparse:
            return DistributedSparseFitter(net, spec.model, spec.config, kv, rank, num_workers,
                                           checkpoint_dir=spec.checkpoint_dir, resume=spec.resume)
        return DistributedFitter(net, spec.model, spec.config, kv, rank, num_workers,
                                 checkpoint_dir=spec.checkpoint_dir, resume=spec.resume)
    fitter_class = SparseFitter if spec.config.sparse else Fitter
    return fitter_class(net, spec.model, spec.config, kvstore=spec.kvstore)


def save_outputs(out_dir, net, kind, split, history, seconds):
    """The model directory (serving/model_dir.py) plus history.json and curves.png.
    meta.json's ``test_metrics``: the saved net's test scores (every metric of
    training.metrics.METRICS; the restored epoch's under early stopping)."""
    extra = {"mode": history.mode, "data": split.name, "train_config": history.config,
             "test_metrics": unprefixed(history.chosen or history.last(), "test_"),
             "validation_cut": split.cut,
             "skip_reports": [split.train.skip_report.to_dict(), split.test.skip_report.to_dict()],
             "train_seconds": seconds}
    save_model_dir(out_dir, net, kind, split.train, extra)
    atomic_write_json(os.path.join(out_dir, "history.json"), history.to_dict())
    plot_histories({kind: history}, os.path.join(out_dir, "curves.png"),
                   title=f"{kind} on {split.name} ({history.mode})")


def load_history(path):
    with open(path) as f:
        return json.load(f)
