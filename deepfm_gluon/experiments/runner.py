"""One training run from data to a model directory: what `train` and the
notebooks call, and what compare/reproduce/sweep repeat."""
import json
import os
import time

from mxnet import npx

from ..atomic import atomic_write_json
from ..models import build_model
from ..serving.model_dir import save_model_dir
from ..training.loop import fit
from ..training.plotting import plot_histories


def train_model(kind, split, config, out_dir=None, model_overrides=None, log=print,
                checkpoint_dir=None, resume=False, run_args=None):
    """Train ``kind`` on ``split`` (a DataSplit); returns (net, history, seconds).

    With ``out_dir``, writes model.params, meta.json, mapping.json,
    history.json and curves.png there. ``checkpoint_dir``/``resume``: see ``fit``.
    """
    npx.set_np()
    net = build_model(kind, split.train.field_dims, **(model_overrides or {}))
    start = time.perf_counter()
    history = fit(net, kind, split.train, split.test, config, log=log, checkpoint_dir=checkpoint_dir,
                  resume=resume, run_args=run_args)
    seconds = time.perf_counter() - start
    if out_dir is not None:
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
