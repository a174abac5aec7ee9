"""Compare models at their tuned configurations (`compare --tune N` /
`compare --config FILE...`): each configuration trained over several seeds
under both protocols, test mean and spread per model, and every model
against the first (the baseline) with the paired test of experiments/paired.py.

- early-stop: trained on the training lines minus the validation split,
  stopped with the configuration's patience, the best-validation epoch's
  weights restored and scored once on test;
- book: trained on all training lines for the epoch count validation chose
  when the configuration was tuned (``tuning.epoch``; else its ``epochs``),
  the last epoch scored on test.

Nothing here is chosen by test numbers: the configurations come from
validation (tuning), the epochs from validation, and the test set is
scored once per run for the report.
"""
import dataclasses
import os

import numpy as np

from ..atomic import atomic_write_json, atomic_write_text
from ..training.config import TrainConfig
from .paired import paired_difference
from .runner import train_model

PROTOCOLS = ("early-stop", "book")
METRICS = ("test_auc", "test_logloss")


def protocol_config(run_config, protocol, seed, base=None):
    """The TrainConfig of ``run_config`` (a RunConfig) for ``protocol`` and ``seed``."""
    base = base or TrainConfig()
    config = dataclasses.replace(base, progress=False, seed=seed, min_steps_per_epoch=0, **run_config.training)
    if protocol == "book":
        epochs = run_config.tuning.get("epoch") or run_config.training.get("epochs", config.epochs)
        return dataclasses.replace(config, early_stop=None, epochs=int(epochs))
    return dataclasses.replace(config, early_stop=config.early_stop or 2)


def train_seeds(split, validated, configs, seeds, base=None, log=None):
    """{protocol: {model: [{'seed', 'test_auc', 'test_logloss', 'epoch', 'epochs_run'}...]}}
    for every RunConfig in ``configs`` (model -> RunConfig) and seed."""
    results = {p: {model: [] for model in configs} for p in PROTOCOLS}
    for seed in seeds:
        for model, run_config in configs.items():
            for protocol in PROTOCOLS:
                data = validated if protocol == "early-stop" else split
                config = protocol_config(run_config, protocol, seed, base)
                _, history, seconds = train_model(model, data, config, log=None,
                                                  model_overrides=run_config.hyperparameters)
                final = history.chosen or history.last()
                row = {"seed": seed, "test_auc": final["test_auc"], "test_logloss": final["test_logloss"],
                       "epoch": final.get("epoch", len(history.epochs)), "epochs_run": len(history.epochs),
                       "seconds": seconds}
                results[protocol][model].append(row)
                if log:
                    log(f"seed {seed} {model} ({protocol}): test AUC {row['test_auc']:.4f}, "
                        f"test logloss {row['test_logloss']:.4f}, epoch {row['epoch']}")
    return results


def summary_rows(results, baseline):
    """One row per protocol and model: mean ± std of the test metrics and the
    paired test of its test AUC against ``baseline``'s (same seeds)."""
    rows = []
    for protocol, by_model in results.items():
        reference = [r["test_auc"] for r in by_model[baseline]]
        for model, runs in by_model.items():
            row = {"protocol": protocol, "model": model, "seeds": len(runs)}
            for metric in METRICS:
                values = np.array([r[metric] for r in runs])
                row[f"{metric} mean"] = float(values.mean())
                row[f"{metric} std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            if model != baseline:
                paired = paired_difference([r["test_auc"] for r in runs], reference)
                row.update({f"AUC - {baseline}": paired["auc_diff_mean"], "paired t p": paired["paired_t_p"],
                            "wins": paired["wins"]})
            rows.append(row)
    return rows


def markdown(rows, baseline):
    head = ["protocol", "model", "test AUC (mean ± std)", "test logloss (mean ± std)",
            f"AUC − {baseline} (paired)", "paired t p", "wins"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        paired = (f"{r[f'AUC - {baseline}']:+.4f}", f"{r['paired t p']:.3g}", f"{r['wins']}/{r['seeds']}") \
            if f"AUC - {baseline}" in r else ("(baseline)", "", "")
        lines.append("| " + " | ".join([r["protocol"], r["model"],
                                        f"{r['test_auc mean']:.4f} ± {r['test_auc std']:.4f}",
                                        f"{r['test_logloss mean']:.4f} ± {r['test_logloss std']:.4f}",
                                        *paired]) + " |")
    return "\n".join(lines) + "\n"


def compare_configs(split, validated, configs, seeds, out_dir=None, base=None, log=None, budget=None):
    """Train and report ``configs`` (model -> RunConfig; the first model is the
    baseline) over ``seeds``; returns (rows, results). With ``out_dir``:
    compare_tuned.json and compare_tuned.md there."""
    baseline = next(iter(configs))
    results = train_seeds(split, validated, configs, seeds, base, log)
    rows = summary_rows(results, baseline)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        atomic_write_json(os.path.join(out_dir, "compare_tuned.json"), {
            "data": split.name, "seeds": list(seeds), "baseline": baseline, "budget_trials": budget,
            "configs": {m: c.to_dict() for m, c in configs.items()}, "rows": rows, "runs": results})
        text = (f"# Tuned comparison on {split.name}\n\n"
                f"Each model at its configuration{f' tuned with {budget} trials' if budget else ''} "
                f"(validation only), trained with seeds {list(seeds)}; early-stop: "
                f"{validated.describe()}; book: all {len(split.train)} training lines for the epoch count "
                f"validation chose.\n\n" + markdown(rows, baseline))
        atomic_write_text(os.path.join(out_dir, "compare_tuned.md"), text)
    return rows, results
