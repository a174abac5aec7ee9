"""What a study leaves in --out: the best configuration (best.json, for
`train --config` and `compare --config`), the trials as CSV and markdown,
and two plots (optimization history, parameter importances) as PNG."""
import csv
import io
import os

import optuna
from optuna.trial import TrialState

from ..atomic import atomic_write_text
from ..training.metrics import METRICS
from .config_file import RunConfig, write_config
from .html_report import esc, image, side_by_side_page, write_page
from .search_space import values_from_params

BEST_FILE, TRIALS_CSV, TRIALS_MD = "best.json", "trials.csv", "trials.md"
HISTORY_PNG, IMPORTANCE_PNG = "optimization_history.png", "param_importances.png"
REPORT, TOP_TRIALS = "report.html", 6


def best_trial(study):
    """The complete trial with the best validation value (None if none is complete)."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return None
    return study.best_trial


def best_config(study, settings, storage_url=None):
    """The best trial as a RunConfig: the fixed and sampled hyperparameters
    and the training settings that reproduce the trial (same protocol)."""
    trial = best_trial(study)
    if trial is None:
        return None
    model_values, training_values = values_from_params(settings.space, trial.params)
    base = settings.base
    training = {"lr": base.lr, "batch_size": base.batch_size, "embedding_l2": base.embedding_l2,
                "dense_l2": base.dense_l2, "epochs": base.epochs, "early_stop": base.early_stop,
                "monitor": base.monitor, "optimizer": base.optimizer, **training_values}
    if training["lr"] is None:
        training.pop("lr")  # the model's own default rate
    provenance = {"study": study.study_name, "storage": storage_url, "trial": trial.number,
                  f"validation_{base.monitor}": trial.value, "epoch": trial.user_attrs.get("epoch"),
                  "finished_trials": sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED)
                                         for t in study.get_trials(deepcopy=False)),
                  "chosen_by": f"validation {base.monitor} only (test numbers are never read)"}
    return RunConfig(settings.model, {**settings.model_overrides, **model_values}, training, provenance)


def trial_rows(study):
    """One dict per trial: number, state, value, chosen epoch, epochs run,
    seconds, note (pruned, retried, surplus...), every validation metric of
    the restored epoch (training/metrics.py METRICS), then every parameter."""
    trials = study.get_trials(deepcopy=False)
    names = sorted({name for t in trials for name in t.params})
    rows = []
    for t in trials:
        note = t.user_attrs.get("note", "")
        if "failed_trial" in t.system_attrs:
            note = (note + "; " if note else "") + f"retry of trial {t.system_attrs['failed_trial']}"
        if t.state == TrialState.FAIL and not note:
            note = "its process died; its parameters were queued again"
        row = {"trial": t.number, "state": t.state.name.lower(),
               "value": "" if t.value is None else round(t.value, 5),
               "epoch": t.user_attrs.get("epoch", ""), "epochs run": t.user_attrs.get("epochs_run", ""),
               "seconds": t.user_attrs.get("seconds", ""), "note": note}
        for metric in METRICS:
            value = t.user_attrs.get(f"val_{metric.name}")
            row[f"val {metric.label}"] = "" if value is None else round(value, 5)
        for name in names:
            value = t.params.get(name, "")
            row[name] = f"{value:.4g}" if isinstance(value, float) else value
        rows.append(row)
    return rows


def markdown_table(rows):
    if not rows:
        return "(no trials)\n"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_trials(study, out_dir, metric):
    rows = trial_rows(study)
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    atomic_write_text(os.path.join(out_dir, TRIALS_CSV), buffer.getvalue())
    header = (f"# Trials of study {study.study_name}\n\nvalue: validation {metric} of the epoch early "
              "stopping restored (pruned trials: stopped by the median rule).\n\n")
    atomic_write_text(os.path.join(out_dir, TRIALS_MD), header + markdown_table(rows))


def write_plots(study, out_dir):
    """The two PNGs; returns the notes for those that could not be drawn."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib  # imported here to keep start-up fast (only reports draw)
    matplotlib.use("Agg")
    from optuna.visualization import matplotlib as plots  # with matplotlib: imported here for start-up
    notes = []
    for name, draw in ((HISTORY_PNG, plots.plot_optimization_history),
                       (IMPORTANCE_PNG, plots.plot_param_importances)):
        try:
            axes = draw(study)
        except (ValueError, RuntimeError) as err:  # e.g. importances need 2 complete trials
            notes.append(f"{name}: not drawn ({err})")
            continue
        figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
        figure.set_size_inches(8, 5)
        figure.tight_layout()
        figure.savefig(os.path.join(out_dir, name), dpi=100)
        matplotlib.pyplot.close(figure)
    return notes


def write_outputs(study, settings, out_dir, storage_url=None):
    """best.json, trials.csv/.md and the plots in ``out_dir``; returns
    (RunConfig or None, notes)."""
    os.makedirs(out_dir, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    config = best_config(study, settings, storage_url)
    if config is not None:
        write_config(os.path.join(out_dir, BEST_FILE), config)
    write_trials(study, out_dir, settings.base.monitor)
    notes = write_plots(study, out_dir)
    write_trials_page(study, settings, out_dir)
    return config, notes


def write_trials_page(study, settings, out_dir):
    """OUT/report.html: the best complete trials side by side (every
    validation metric of each one's restored epoch, its parameters below),
    with the optimization history and parameter importances."""
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    higher = settings.base.monitor == "auc"
    complete.sort(key=lambda t: -t.value if higher else t.value)
    models = {f"trial {t.number}": {"metrics": {m.name: t.user_attrs.get(f"val_{m.name}") for m in METRICS}}
              for t in complete[:TOP_TRIALS]}
    params = "".join(f"<li>trial {t.number}: " + esc(", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in sorted(t.params.items()))) + "</li>"
        for t in complete[:TOP_TRIALS])
    page = side_by_side_page(
        f"Study {study.study_name}: {settings.model}, the best {len(models)} trials", models,
        os.path.join(out_dir, HISTORY_PNG),
        f"validation metrics of each trial's restored epoch (the study never reads test), best first by "
        f"validation {settings.base.monitor}", heading="Validation metrics",
        extra=[("Parameters", f"<ul>{params}</ul>"),
               ("Parameter importances", image(os.path.join(out_dir, IMPORTANCE_PNG), "parameter importances"))])
    return write_page(os.path.join(out_dir, REPORT), page)
