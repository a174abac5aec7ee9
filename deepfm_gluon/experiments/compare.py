"""FM against DeepFM, each with the book's settings, on the same data, under
two protocols side by side:

- book: train on all training lines for ``config.epochs`` epochs and report
  the final epoch's test metrics (what the chapter prints);
- early-stopped: train on the training lines minus a validation split, stop
  after ``patience`` epochs without a better validation AUC, restore the
  best-validation epoch's weights and report their test metrics once.

Two runs per model, on purpose: the book's protocol trains on every line,
which a validation split would change. The second run stops early, so it
costs a few epochs, not thirty.
"""
import dataclasses
import os

from ..atomic import atomic_write_json
from ..training.metrics import METRICS
from ..training.plotting import plot_histories
from .runner import train_model

PROTOCOLS = ("book", "early-stop")
# Column names come from the one metrics table (training/metrics.py): "test AUC", "test NE", ...
TEST_COLUMNS = tuple(f"test {m.label}" for m in METRICS)
COLUMNS = ("model", *TEST_COLUMNS, "train loss", "epochs", "seconds")
BOTH_COLUMNS = ("model", *(f"{p}: {c}" for p in PROTOCOLS for c in TEST_COLUMNS),
                "early-stop: epoch", "early-stop: epochs run")
# The text table of compare_protocols: one line per model and protocol (BOTH_COLUMNS is too wide).
PROTOCOL_COLUMNS = ("model", "protocol", *TEST_COLUMNS, "epoch", "epochs run")


def test_columns(record):
    """{"test AUC": ..., ...} of a history record or chosen dict (``test_<name>`` keys)."""
    return {f"test {m.label}": record.get(f"test_{m.name}") for m in METRICS}


def by_protocol(rows):
    """BOTH_COLUMNS rows as PROTOCOL_COLUMNS rows (two per model)."""
    out = []
    for row in rows:
        for p in PROTOCOLS:
            out.append({"model": row["model"], "protocol": p, **{c: row[f"{p}: {c}"] for c in TEST_COLUMNS},
                        "epoch": row["early-stop: epoch"] if p == "early-stop" else row["book: epochs"],
                        "epochs run": row["early-stop: epochs run"] if p == "early-stop" else row["book: epochs"]})
    return out


def compare_protocols(split, validated, config, patience=2, kinds=("fm", "deepfm"), out_dir=None,
                      log=print, model_overrides=None):
    """Both protocols per kind: the book's on ``split`` (no validation) and
    early stopping (``patience``, ``config.monitor``) on ``validated`` (a
    DataSplit with a validation part). ``model_overrides``: {kind: kwargs}.

    Returns (rows, runs): one dict per kind with the BOTH_COLUMNS keys, and
    {protocol: {kind: History}}. With ``out_dir``: compare.json (both) and
    compare.png there, and book/KIND and early-stop/KIND model directories."""
    sub = (lambda name: os.path.join(out_dir, name)) if out_dir else (lambda name: None)
    book_rows, book = compare_models(split, dataclasses.replace(config, early_stop=None), kinds,
                                     out_dir=sub("book"), log=log, model_overrides=model_overrides)
    early_config = dataclasses.replace(config, early_stop=patience)
    early_rows, early = compare_models(validated, early_config, kinds, out_dir=sub("early-stop"), log=log,
                                       model_overrides=model_overrides)
    rows = []
    for kind, b, e in zip(kinds, book_rows, early_rows):
        chosen = early[kind].chosen
        rows.append({"model": kind, **{f"book: {c}": b[c] for c in TEST_COLUMNS}, "book: epochs": b["epochs"],
                     **{f"early-stop: {c}": v for c, v in test_columns(chosen).items()},
                     "early-stop: epoch": chosen["epoch"], "early-stop: epochs run": chosen["epochs_run"]})
    runs = {"book": book, "early-stop": early}
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        plot_histories(book, os.path.join(out_dir, "compare.png"), title=f"FM vs DeepFM on {split.name}")
        atomic_write_json(os.path.join(out_dir, "compare.json"), {
            "rows": rows, "protocols": {
                "book": {"split": split.protocol, "epochs": config.epochs, "rows": book_rows},
                "early-stop": {"split": validated.protocol, "patience": patience,
                               "monitor": config.monitor, "rows": early_rows}},
            "histories": {p: {k: h.to_dict() for k, h in hs.items()} for p, hs in runs.items()}})
    return rows, runs


def compare_models(split, config, kinds=("fm", "deepfm"), out_dir=None, log=print, model_overrides=None):
    """Train each kind ('fm', 'deepfm') on ``split`` (a DataSplit) with its
    book hyperparameters and ``config`` (a TrainConfig; lr None means each kind's book rate).

    Returns (rows, histories): one dict per kind with the COLUMNS keys, and
    {kind: History}. With ``out_dir``: compare.png, compare.json and a model
    directory per kind there."""
    rows, histories = [], {}
    for kind in kinds:
        kind_config = config  # lr None: each kind's book rate; a preset's rate (bars 1e-3) applies to both
        sub = os.path.join(out_dir, kind) if out_dir else None
        _, history, seconds = train_model(kind, split, kind_config, out_dir=sub, log=log,
                                          model_overrides=(model_overrides or {}).get(kind))
        last = dict(history.last(), **(history.chosen or {}))  # early stopping: the restored model
        rows.append({"model": kind, **test_columns(last), "train loss": last["train_loss"],
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
        if value is None:
            return "-"
        return str(value)
    body = [[cell(c, r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths)) for b in body]
    return "\n".join(lines)
