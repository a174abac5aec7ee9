"""One training run from data to a model directory: what `train` and the
notebooks call, and what compare/reproduce/sweep repeat."""
import contextlib
import json
import os
import time

from ..atomic import atomic_write_json
from ..models import build_model
from ..serving.model_dir import save_model_dir
from ..training.loop import fit
from ..training.plotting import plot_histories


def train_model(kind, split, config, out_dir=None, model_overrides=None, log=print,
                checkpoint_dir=None, resume=False, run_args=None, kvstore="device"):
    """Train ``kind`` on ``split`` (a DataSplit); returns (net, history, seconds).

    With ``out_dir``, writes model.params, meta.json, mapping.json,
    history.json and curves.png there. ``checkpoint_dir``/``resume``: see
    ``fit``. ``kvstore`` 'dist_sync'/'dist_async' joins the job
    `deepfm-gluon launch` started and trains this worker's shard; only rank 0
    writes ``out_dir``.
    """
    shard, guard = None, contextlib.nullcontext()
    if isinstance(kvstore, str) and kvstore.startswith("dist"):
        from ..distributed.worker import exit_on_error, join_job
        kvstore, rank, num_workers = join_job(kvstore, config.batch_size)
        shard, guard = (rank, num_workers), exit_on_error()
    with guard:  # a failed dist worker must exit at once, not hang at exit
        net = build_model(kind, split.train.field_dims, **(model_overrides or {}))
        start = time.perf_counter()
        history = fit(net, kind, split.train, split.test, config, log=log, kvstore=kvstore,
                      shard=shard, checkpoint_dir=checkpoint_dir if shard is None else None,
                      resume=resume, run_args=run_args)
        seconds = time.perf_counter() - start
        if out_dir is not None and (shard is None or shard[0] == 0):
            save_outputs(out_dir, net, kind, split, history, seconds)
    return net, history, seconds


def save_outputs(out_dir, net, kind, split, history, seconds):
    extra = {"mode": history.mode, "data": split.name, "train_config": history.config,
             "skip_reports": [split.train.skip_report.to_dict(), split.test.skip_report.to_dict()],
             "train_seconds": seconds}
    save_model_dir(out_dir, net, kind, split.train, extra)
    atomic_write_json(os.path.join(out_dir, "history.json"), history.to_dict())
    plot_histories({kind: history}, os.path.join(out_dir, "curves.png"),
                   title=f"{kind} on {split.name} ({history.mode})")


def load_history(path):
    with open(path) as f:
        return json.load(f)
