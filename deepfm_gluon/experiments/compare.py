"""Any set of registered models (FM and DeepFM by default), each with its
own defaults (the book's for FM and DeepFM), on the same data, under two
protocols side by side:

- book: train on all training lines for ``config.epochs`` epochs and report
  the final epoch's test metrics (what the chapter prints);
- early-stopped: train on the training lines minus a validation split, stop
  after ``patience`` epochs without a better validation AUC, restore the
  best-validation epoch's weights and report their test metrics once.

Two runs per model, on purpose: the book's protocol trains on every line,
which a validation split would change. The second run stops early, so it
costs a few epochs, not thirty.

With several seeds every model is trained once per seed and protocol; the
rows hold the means over seeds, and each model is paired by seed with the
first one listed (the baseline): the paired t-test of ``reproduce``
(experiments/paired.py), per protocol.
"""
import dataclasses
import os

from ..atomic import atomic_write_json
from ..training.metrics import METRICS
from ..training.plotting import plot_histories
from .explain_run import REPORT, explain_saved
from .html_report import side_by_side_page, write_page
from .paired import paired_difference
from .runner import train_model

DEFAULT_KINDS = ("fm", "deepfm")
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


def title(kinds, split):
    return f"{' vs '.join(kinds)} on {split.name}"


def compare_protocols(split, validated, config, patience=2, kinds=DEFAULT_KINDS, out_dir=None,
                      log=print, model_overrides=None, seeds=None):
    """Both protocols per kind (registered model names): the book's on
    ``split`` (no validation) and early stopping (``patience``,
    ``config.monitor``) on ``validated`` (a DataSplit with a validation
    part). ``model_overrides``: {kind: kwargs}; ``seeds``: ints (None: just
    ``config.seed``).

    Returns (rows, runs): one dict per kind with the BOTH_COLUMNS keys (means
    over seeds), and {protocol: {kind: History}} (the first seed's). With
    ``out_dir``: compare.json (both protocols, and with two or more seeds
    the paired tests against the first kind), compare.png and report.html
    (the models side by side with their explain figures) there, and
    book/KIND and early-stop/KIND model directories (the first seed's)."""
    sub = (lambda name: os.path.join(out_dir, name)) if out_dir else (lambda name: None)
    seeds = list(seeds) if seeds else [config.seed]
    book_rows, book, book_seeds = compare_seeds(split, dataclasses.replace(config, early_stop=None), kinds,
                                                seeds, sub("book"), log, model_overrides)
    early_config = dataclasses.replace(config, early_stop=patience)
    early_rows, early, early_seeds = compare_seeds(validated, early_config, kinds, seeds, sub("early-stop"),
                                                   log, model_overrides)
    rows = []
    for kind, b, e in zip(kinds, book_rows, early_rows):
        chosen = early[kind].chosen
        rows.append({"model": kind, **{f"book: {c}": b[c] for c in TEST_COLUMNS}, "book: epochs": b["epochs"],
                     **{f"early-stop: {c}": e[c] for c in TEST_COLUMNS},
                     "early-stop: epoch": chosen["epoch"], "early-stop: epochs run": chosen["epochs_run"]})
    runs = {"book": book, "early-stop": early}
    paired = {"book": paired_rows(book_seeds, kinds), "early-stop": paired_rows(early_seeds, kinds)} \
        if len(seeds) > 1 else None
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        plot_histories(book, os.path.join(out_dir, "compare.png"), title=title(kinds, split))
        atomic_write_json(os.path.join(out_dir, "compare.json"), {
            "models": list(kinds), "seeds": seeds, "rows": rows,
            **({"paired": paired} if paired else {}), "protocols": {
                "book": {"split": split.protocol, "epochs": config.epochs, "rows": book_rows},
                "early-stop": {"split": validated.protocol, "patience": patience,
                               "monitor": config.monitor, "rows": early_rows}},
            "histories": {p: {k: h.to_dict() for k, h in hs.items()} for p, hs in runs.items()}})
        write_side_by_side(out_dir, {"book": split, "early-stop": validated}, rows, title(kinds, split), len(seeds))
    return rows, runs


def write_side_by_side(out_dir, splits, rows, heading, num_seeds=1):
    """OUT/report.html: every model of ``rows`` (BOTH_COLUMNS dicts) per
    protocol with its test metrics, and the explain figures of its model
    directory OUT/PROTOCOL/KIND, explained on ``splits`` ({protocol: DataSplit})."""
    models = {}
    for protocol in PROTOCOLS:
        for row in rows:
            kind = row["model"]
            result, figures, _ = explain_saved(os.path.join(out_dir, protocol, kind), splits[protocol],
                                               title=f"{kind} ({protocol})")
            models[f"{kind} ({protocol})"] = {
                "metrics": {m.name: row[f"{protocol}: test {m.label}"] for m in METRICS},
                "explain": result, "figures": figures}
    notes = "book: the final epoch's test metrics; early-stop: the restored best-validation epoch's"
    if num_seeds > 1:
        notes += f"; means over {num_seeds} seeds, figures of the first seed's models"
    return write_page(os.path.join(out_dir, REPORT),
                      side_by_side_page(heading, models, os.path.join(out_dir, "compare.png"), notes))


def paired_rows(seed_aucs, kinds):
    """Each kind after the first against the first, paired by seed: one dict
    per kind (``paired_difference`` plus model and baseline)."""
    base = kinds[0]
    return [{"model": kind, "baseline": base, **paired_difference(seed_aucs[kind], seed_aucs[base])}
            for kind in kinds[1:]]


def compare_seeds(split, config, kinds, seeds, out_dir, log, model_overrides):
    """``compare_models`` once per seed. Returns (rows with the test metrics
    averaged over seeds, the first seed's {kind: History}, {kind: test AUC
    per seed}); only the first seed writes ``out_dir``."""
    runs = [compare_models(split, dataclasses.replace(config, seed=seed), kinds,
                           out_dir=out_dir if i == 0 else None, log=log, model_overrides=model_overrides)
            for i, seed in enumerate(seeds)]
    rows = [dict(row) for row in runs[0][0]]
    for i, row in enumerate(rows):
        for column in (*TEST_COLUMNS, "train loss", "seconds"):
            values = [r[i][column] for r, _ in runs]
            row[column] = None if any(v is None for v in values) else sum(values) / len(values)
    aucs = {kind: [r[i]["test AUC"] for r, _ in runs] for i, kind in enumerate(kinds)}
    return rows, runs[0][1], aucs


def compare_models(split, config, kinds=DEFAULT_KINDS, out_dir=None, log=print, model_overrides=None):
    """Train each kind (registered model names) on ``split`` (a DataSplit)
    with its default hyperparameters (the book's for FM and DeepFM) updated
    by ``model_overrides`` ({kind: kwargs}) and ``config`` (a TrainConfig;
    lr None means each model's own rate, ``ModelSpec.lr``).

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
        plot_histories(histories, os.path.join(out_dir, "compare.png"), title=title(kinds, split))
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
