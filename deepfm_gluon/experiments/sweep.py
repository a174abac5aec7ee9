"""The chapters' exercises: vary DeepFM's MLP (DeepFM exercise 1) and FM's
embedding size (FM chapter exercise), with everything else at book settings.

The Criteo exercise (DeepFM exercise 2) is `--data criteo:PATH`; see docs/criteo.md.
"""
import dataclasses
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..atomic import atomic_write_json
from ..models.registry import get_spec
from ..training.metrics import METRICS
from .runner import train_model

MLP_VARIANTS = [
    ("none (linear head)", {"mlp_dims": []}),
    ("[10]", {"mlp_dims": [10]}),
    ("[30, 20, 10] (book)", {"mlp_dims": [30, 20, 10]}),
    ("[64, 32]", {"mlp_dims": [64, 32]}),
    ("[200, 200, 200]", {"mlp_dims": [200, 200, 200]}),
    ("[30, 20, 10] dropout 0", {"mlp_dims": [30, 20, 10], "drop_rate": 0.0}),
    ("[30, 20, 10] dropout 0.5", {"mlp_dims": [30, 20, 10], "drop_rate": 0.5}),
]
FM_FACTORS = [5, 10, 20, 40, 80]


def sweep_variants(what):
    """(group, label, kind, model overrides) for 'mlp', 'factors' or 'all'."""
    variants = []
    if what in ("mlp", "all"):
        variants += [("mlp", label, "deepfm", overrides) for label, overrides in MLP_VARIANTS]
    if what in ("factors", "all"):
        book = get_spec("fm").defaults()["num_factors"]
        variants += [("factors", f"FM k={k}" + (" (book)" if k == book else ""), "fm", {"num_factors": k})
                     for k in FM_FACTORS]
    return variants


def run_sweep(split, config, what="all", seeds=(0,), out_dir=None, log=None):
    """Train every variant of ``what`` ('mlp', 'factors', 'all') on ``split``
    (a DataSplit) for every seed; returns one dict per variant (group, variant,
    mean final test metrics (every one of training.metrics.METRICS), the test curve's hindsight peak
    (descriptive, never used to choose), seconds). With
    ``out_dir``: sweep.png and sweep.json there."""
    rows, curves = [], {}
    for group, label, kind, overrides in sweep_variants(what):
        finals = []
        for seed in seeds:
            _, history, seconds = train_model(kind, split, dataclasses.replace(config, seed=seed),
                                              model_overrides=overrides, log=None)
            finals.append((dict(history.last(), **(history.chosen or {})), seconds))  # early stop: restored
            curves.setdefault((group, label), []).append([r["test_auc"] for r in history.epochs])
        row = {"group": group, "variant": label,
               # early stopping: the chosen epochs' validation AUC, what a variant is chosen by
               "validation AUC": float(np.mean([f.get("val_auc", np.nan) for f, _ in finals])),
               **{f"test {m.label}": float(np.mean([f[f"test_{m.name}"] for f, _ in finals])) for m in METRICS},
               # descriptive only: the test curve's peak chooses nothing (no epoch, no variant)
               "peak test AUC (hindsight)": float(np.mean([max(c) for c in curves[(group, label)]])),
               "seconds": float(np.mean([s for _, s in finals])),
               "test AUC by seed": [float(f["test_auc"]) for f, _ in finals]}
        rows.append(row)
        if log:
            log(f"{label}: test AUC {row['test AUC']:.4f}")
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        plot_sweep(curves, os.path.join(out_dir, "sweep.png"))
        atomic_write_json(os.path.join(out_dir, "sweep.json"), {"rows": rows, "seeds": list(seeds)})
    return rows


def plot_sweep(curves, path):
    groups = sorted({g for g, _ in curves})
    fig = Figure(figsize=(5.5 * len(groups), 3.8))
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(1, len(groups)))
    for ax, group in zip(axes, groups):
        for (g, label), runs in curves.items():
            if g == group:  # early-stopped runs differ in length: each epoch's mean over the runs that reached it
                mean = [np.mean([run[e] for run in runs if len(run) > e]) for e in range(max(map(len, runs)))]
                ax.plot(np.arange(1, len(mean) + 1), mean, label=label)
        ax.set_title("DeepFM MLP structure" if group == "mlp" else "FM embedding size")
        ax.set_xlabel("epoch")
        ax.set_ylabel("test AUC")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
