"""FM against DeepFM, each with the book's settings, on the same data."""
import dataclasses
import os

from ..atomic import atomic_write_json
from ..training.plotting import plot_histories
from .runner import train_model

COLUMNS = ("model", "test AUC", "test logloss", "test acc", "train loss", "epochs", "seconds")


def compare_models(split, config, kinds=("fm", "deepfm"), out_dir=None, log=print):
    """Train each kind ('fm', 'deepfm') on ``split`` (a DataSplit) with its
    book hyperparameters and ``config`` (a TrainConfig; its lr is ignored).

    Returns (rows, histories): one dict per kind with the COLUMNS keys, and
    {kind: History}. With ``out_dir``: compare.png, compare.json and a model
    directory per kind there."""
    rows, histories = [], {}
    for kind in kinds:
        kind_config = dataclasses.replace(config, lr=None)
        sub = os.path.join(out_dir, kind) if out_dir else None
        _, history, seconds = train_model(kind, split, kind_config, out_dir=sub, log=log)
        last = history.last()
        rows.append({"model": kind, "test AUC": last["test_auc"], "test logloss": last["test_logloss"],
                     "test acc": last["test_acc"], "train loss": last["train_loss"],
                     "epochs": len(history.epochs), "seconds": seconds})
        histories[kind] = history
    if out_dir:
        plot_histories(histories, os.path.join(out_dir, "compare.png"), title=f"FM vs DeepFM on {split.name}")
        atomic_write_json(os.path.join(out_dir, "compare.json"),
                          {"rows": rows, "histories": {k: h.to_dict() for k, h in histories.items()}})
    return rows, histories


def format_table(rows, columns=COLUMNS):
    """A plain-text table: the CLI prints it, docs paste it."""
    def cell(column, value):
        if isinstance(value, float):
            return f"{value:.1f}" if column == "seconds" else f"{value:.4f}"
        return str(value)
    body = [[cell(c, r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths)) for b in body]
    return "\n".join(lines)
