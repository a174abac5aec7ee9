"""The chapter's experiment over several seeds, and whether its claims hold.

Claims checked (the chapter's words):
- "Compared with FM, DeepFM converges faster and achieves better performance."
- "DeepFM outperforms the original FM on the advertising dataset."
"Better" is judged on final test AUC, paired by seed; "faster" on the
epochs each model needs to reach a target AUC (default: 99% of the best
test AUC that FM reaches, on average over seeds, at any epoch: with the
book's 30 epochs both models overfit, so a final-epoch target would be met
early and then lost).
"""
import dataclasses
import math
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..atomic import atomic_write_json, atomic_write_text
from ..training.metrics import METRICS
from ..models.registry import get_spec
from .html_report import side_by_side_page, write_page
from .book_numbers import BOOK_FINAL, BOOK_LOSS_CURVE, BOOK_LOSS_RANGE
from .paired import paired_difference
from .runner import train_model

KINDS = ("fm", "deepfm")


@dataclasses.dataclass
class SeedRuns:
    """Histories per model kind, one per seed, for one training mode."""

    mode: str
    seeds: list
    histories: dict  # kind -> list of History

    def final(self, kind, key):
        """Per seed: the restored best-validation model's ``key`` under early
        stopping (history.chosen), else the final epoch's."""
        return np.array([(h.chosen or {}).get(key, h.epochs[-1].get(key)) for h in self.histories[kind]])

    def curve(self, kind, key):
        return np.array([[r[key] for r in h.epochs] for h in self.histories[kind]])


def run_seeds(split, config, seeds, log=None):
    histories = {kind: [] for kind in KINDS}
    for seed in seeds:
        for kind in KINDS:
            seed_config = dataclasses.replace(config, seed=seed)  # lr None: the book rate per kind
            _, history, _ = train_model(kind, split, seed_config, log=log)
            histories[kind].append(history)
            if log:
                last = history.last()
                log(f"seed {seed} {kind}: test AUC {last['test_auc']:.4f}, train loss {last['train_loss']:.4f}")
    mode = "book-compat" if config.book_compat else "correct"
    return SeedRuns(mode, list(seeds), histories)


def paired_columns(paired):
    """The verdict's keys of a ``paired_difference`` (DeepFM's wins as deepfm_wins)."""
    return {"auc_diff_mean": paired["auc_diff_mean"], "auc_diff_std": paired["auc_diff_std"],
            "deepfm_wins": paired["wins"], "seeds": paired["seeds"], "paired_t_p": paired["paired_t_p"]}


def epochs_to_reach(curve, target):
    """First epoch (1-based) whose value reaches ``target``; inf if never."""
    hits = np.nonzero(curve >= target)[0]
    return float(hits[0] + 1) if len(hits) else math.inf


def judge_claims(runs, target_auc=None):
    """Numbers behind each claim and whether it held on this data."""
    paired = paired_difference(runs.final("deepfm", "test_auc"), runs.final("fm", "test_auc"))
    better = paired["better"]
    fm_peak = float(runs.curve("fm", "test_auc").mean(axis=0).max())
    target = float(target_auc) if target_auc is not None else 0.99 * fm_peak
    reach = {kind: [epochs_to_reach(c, target) for c in runs.curve(kind, "test_auc")] for kind in KINDS}
    median_reach = {k: float(np.median(v)) for k, v in reach.items()}
    faster = median_reach["deepfm"] < median_reach["fm"]
    return {"target_auc": target, "fm_peak_mean_auc": fm_peak,
            "deepfm_peak_mean_auc": float(runs.curve("deepfm", "test_auc").mean(axis=0).max()),
            **paired_columns(paired),
            "epochs_to_target": {k: v for k, v in reach.items()}, "median_epochs_to_target": median_reach,
            "claims": {"DeepFM converges faster and achieves better performance than FM": bool(faster and better),
                       "DeepFM outperforms the original FM": better}}


def judge_early_stopped(runs):
    """The claims under early stopping: "better" on the restored
    best-validation models' test AUC, paired by seed; "faster" on the epoch
    validation chose (median over seeds). Test numbers choose nothing."""
    paired = paired_difference(runs.final("deepfm", "test_auc"), runs.final("fm", "test_auc"))
    better = paired["better"]
    chosen = {k: float(np.median([h.chosen["epoch"] for h in runs.histories[k]])) for k in KINDS}
    faster = chosen["deepfm"] < chosen["fm"]
    return {**paired_columns(paired), "median_chosen_epoch": chosen,
            "claims": {"DeepFM converges faster and achieves better performance than FM": bool(faster and better),
                       "DeepFM outperforms the original FM": better}}


def early_stop_section(early, verdict, book_verdict, patience, validated):
    """The report's early-stopping part: table, paired test, claims, agreement."""
    lines = ["## Early stopping (validation split, best-validation weights restored)", "",
             f"{validated.describe()}. Patience {patience} on validation AUC; the test metrics are those "
             "of the restored best-validation model, scored once (mean ± std over seeds).", "",
             _md_table(summary_table(early)), "",
             f"- paired DeepFM − FM test AUC: mean {verdict['auc_diff_mean']:+.4f} "
             f"(std {verdict['auc_diff_std']:.4f}), DeepFM ahead in {verdict['deepfm_wins']} of "
             f"{verdict['seeds']} seeds, paired t-test p = {verdict['paired_t_p']:.3g}",
             f"- epoch chosen by validation (median): FM {verdict['median_chosen_epoch']['fm']}, "
             f"DeepFM {verdict['median_chosen_epoch']['deepfm']}", ""]
    for claim, held in verdict["claims"].items():
        agree = "agrees" if held == book_verdict["claims"][claim] else "DISAGREES"
        lines.append(f"- \"{claim}\": **{'held' if held else 'not held'}** under early stopping "
                     f"({agree} with the book's protocol)")
    same = verdict["claims"] == book_verdict["claims"]
    return lines + ["", f"**The two protocols' verdicts {'agree' if same else 'do not agree'}.**", ""]


def summary_table(runs):
    rows = []
    for kind in KINDS:
        row = {"model": kind}
        for key, name in (*((f"test_{m.name}", m.label) for m in METRICS), ("train_loss", "train loss")):
            values = runs.final(kind, key)
            row[name] = f"{values.mean():.4f} ± {values.std(ddof=1) if len(values) > 1 else 0.0:.4f}"
        rows.append(row)
    return rows


def plot_runs(runs_by_mode, path):
    """Test AUC and train loss per epoch, mean over seeds with a ±1 std band."""
    fig = Figure(figsize=(10, 3.8))
    FigureCanvasAgg(fig)
    ax_auc, ax_loss = fig.subplots(1, 2)
    for mode, runs in runs_by_mode.items():
        for kind in KINDS:
            for ax, key in ((ax_auc, "test_auc"), (ax_loss, "train_loss")):
                curve = runs.curve(kind, key)
                xs = np.arange(1, curve.shape[1] + 1)
                mean, std = curve.mean(0), curve.std(0)
                line, = ax.plot(xs, mean, label=f"{kind} ({mode})",
                                linestyle="-" if mode == "correct" else "--")
                ax.fill_between(xs, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    for kind in KINDS:
        book = BOOK_LOSS_CURVE[kind]
        ax_loss.scatter(list(book), list(book.values()), marker="x", label=f"{kind} (book)")
    ax_auc.set_title("test AUC")
    ax_loss.set_title("train loss")
    for ax in (ax_auc, ax_loss):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    ax_loss.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _md_table(rows):
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def hyperparameter_text(kind):
    """'fm: num_factors 20, lr 0.02': the model's defaults, from its ModelSpec."""
    spec = get_spec(kind)
    values = [f"{name} {value}" for name, value in spec.defaults().items()]
    return f"{kind}: {', '.join(values + [f'lr {spec.lr:g}'])}"


def render_report(split, config, runs, verdict, compat=None):
    lines = [f"# Reproduction: FM vs DeepFM on {split.name}", "",
             f"{split.describe()}. Book hyperparameters ({'; '.join(hyperparameter_text(k) for k in KINDS)}; "
             f"Adam, batch {config.batch_size}, "
             f"{config.epochs} epochs, Xavier init, rollover batches), seeds {runs.seeds}.", "",
             "## Final epoch, correct mode (mean ± std over seeds)", "", _md_table(summary_table(runs)), "",
             "## Paired comparison (DeepFM − FM, final test AUC, same seed and data)", "",
             f"- mean difference {verdict['auc_diff_mean']:+.4f} (std {verdict['auc_diff_std']:.4f}), "
             f"DeepFM ahead in {verdict['deepfm_wins']} of {verdict['seeds']} seeds, "
             f"paired t-test p = {verdict['paired_t_p']:.3g}",
             f"- descriptive only, read off the test curves after training (they choose no epoch "
             f"or model): epochs to reach test AUC {verdict['target_auc']:.4f} (median over seeds): "
             f"FM {verdict['median_epochs_to_target']['fm']}, DeepFM {verdict['median_epochs_to_target']['deepfm']}",
             f"- hindsight peak of the mean test AUC curve (not a result: picking it would be "
             f"choosing an epoch by the test set): FM {verdict['fm_peak_mean_auc']:.4f}, "
             f"DeepFM {verdict['deepfm_peak_mean_auc']:.4f}", "",
             "## The chapter's claims", ""]
    for claim, held in verdict["claims"].items():
        lines.append(f"- \"{claim}\": **{'held' if held else 'not held'}** on this data")
    lines += ["", "## Beside the book", "",
              "The book's \"acc\" is d2l's exact-equality accuracy and its loss has a double sigmoid; "
              "only book-compat mode reproduces those numbers.", ""]
    rows = []
    for kind in KINDS:
        row = {"model": kind, "book loss": BOOK_FINAL[kind]["loss"],
               "book loss range": "%.3f-%.3f" % BOOK_LOSS_RANGE[kind],
               "book train acc": BOOK_FINAL[kind]["train_acc"], "book test acc": BOOK_FINAL[kind]["test_acc"]}
        if compat is not None:
            loss = compat.final(kind, "train_loss")
            lo, hi = BOOK_LOSS_RANGE[kind]
            row["ours book-compat loss"] = f"{loss.mean():.4f}"
            row["in book range"] = "yes" if lo <= loss.mean() <= hi else "no"
            row["ours book-compat d2l acc (train/test)"] = (f"{compat.final(kind, 'book_train_acc').mean():.3f}/"
                                                           f"{compat.final(kind, 'book_test_acc').mean():.3f}")
        row["ours correct AUC"] = f"{runs.final(kind, 'test_auc').mean():.4f}"
        row["ours correct logloss"] = f"{runs.final(kind, 'test_logloss').mean():.4f}"
        row["ours correct acc@0.5"] = f"{runs.final(kind, 'test_acc').mean():.4f}"
        rows.append(row)
    lines += [_md_table(rows), ""]
    if compat is None:
        lines.append("Run with `--book-compat` to add the book-compat columns.")
    elif split.name != "ctr":
        lines.append("The book's loss range is for its real 'ctr' data; on other data the "
                     "book-compat loss need not land in it.")
    lines += ["", "![curves](curves.png)", ""]
    return "\n".join(lines)


def write_seeds_page(out_dir, split, runs_by_mode, num_seeds):
    """OUT/report.html: each model's mean test metrics over seeds per protocol, side by side, and the curves."""
    models = {f"{kind} ({mode})": {"metrics": {m.name: float(np.mean(runs.final(kind, f"test_{m.name}")))
                                               for m in METRICS}}
              for mode, runs in runs_by_mode.items() if runs is not None for kind in KINDS}
    return write_page(os.path.join(out_dir, "report.html"), side_by_side_page(
        f"Reproduction: FM vs DeepFM on {split.name}", models, os.path.join(out_dir, "curves.png"),
        f"mean over {num_seeds} seeds; correct: the final epoch, early-stop: the restored best-validation "
        "epoch; the paired tests are in report.md"))


def reproduce(split, config, seeds, out_dir, book_compat=False, target_auc=None, log=None,
              validated=None, patience=2):
    """Train FM and DeepFM on ``split`` (a DataSplit) for every seed in
    ``seeds`` (ints) with ``config`` (a TrainConfig), in correct mode and, with
    ``book_compat``, also the book's; write report.md, results.json and
    curves.png into ``out_dir``. With ``validated`` (the DataSplit with a
    validation part), the early-stopping protocol (``patience``) runs too and
    is judged beside the book's; its verdict is ``verdict['early_stop']``.
    Returns (report markdown str, verdict dict)."""
    os.makedirs(out_dir, exist_ok=True)
    runs = run_seeds(split, dataclasses.replace(config, book_compat=False), seeds, log)
    compat = run_seeds(split, dataclasses.replace(config, book_compat=True), seeds, log) if book_compat else None
    verdict = judge_claims(runs, target_auc)
    plot_runs({"correct": runs, **({"book-compat": compat} if compat else {})}, os.path.join(out_dir, "curves.png"))
    report = render_report(split, config, runs, verdict, compat)
    early = None
    if validated is not None:
        early = run_seeds(validated, dataclasses.replace(config, book_compat=False, early_stop=patience), seeds, log)
        verdict["early_stop"] = judge_early_stopped(early)
        verdict["verdicts_agree"] = verdict["early_stop"]["claims"] == verdict["claims"]
        report += "\n" + "\n".join(early_stop_section(early, verdict["early_stop"], verdict, patience, validated))
    atomic_write_text(os.path.join(out_dir, "report.md"), report)
    write_seeds_page(out_dir, split, {"correct": runs, "early-stop": early}, len(seeds))
    atomic_write_json(os.path.join(out_dir, "results.json"), {
        "verdict": verdict, "seeds": list(seeds), "data": split.name,
        "histories": {mode: {k: [h.to_dict() for h in v] for k, v in r.histories.items()}
                      for mode, r in (("correct", runs), ("book-compat", compat), ("early-stop", early))
                      if r is not None}})
    return report, verdict
