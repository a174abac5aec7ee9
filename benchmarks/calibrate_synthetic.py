#!/usr/bin/env python
"""Calibrate the synthetic stand-in (deepfm_gluon/data/synthetic.py) to the book.

Two measurements of a SyntheticSpec, both with the book's settings:

* ``curves``: book-compat training loss of FM and DeepFM (training seed 0) at
  the epochs the book printed, and each one's gap to the book's number. A
  grid of spec values (``--set name=v1,v2``) is searched exhaustively.
* ``compare``: correct-mode FM vs DeepFM over seeds, test AUC, paired t-test,
  under the book's protocol (all 15000 training lines, final epoch) and under
  early stopping (10% of the training lines held out by a fixed seed; the
  epoch with the best validation AUC; its test AUC). No choice looks at test.

    python benchmarks/calibrate_synthetic.py curves --set target_ctr=0.48,0.5 --set first_order_scale=5,6
    python benchmarks/calibrate_synthetic.py compare --seeds 5

Every result is one JSON line on stdout (and appended to ``--log``). Each
curves point costs two 30-epoch runs (seconds each on 2 cores).
"""
import argparse
import contextlib
import dataclasses
import io
import itertools
import json
import os
import types

import numpy as np


def spec_from(values):
    from deepfm_gluon.data.synthetic import SyntheticSpec
    return SyntheticSpec(**values)


def load(spec, work):
    from deepfm_gluon.data.sources import load_split
    from deepfm_gluon.data.synthetic import generate_synthetic
    return load_split(generate_synthetic(os.path.join(work, spec.key()), spec))


def train(kind, train_set, eval_set, seed, book_compat, on_epoch=None, epochs=30):
    from deepfm_gluon.models import build_model
    from deepfm_gluon.training.config import TrainConfig
    from deepfm_gluon.training import fit
    config = TrainConfig(epochs=epochs, seed=seed, book_compat=book_compat, progress=False)
    with contextlib.redirect_stdout(io.StringIO()):
        return fit(build_model(kind, train_set.field_dims), kind, train_set, eval_set, config,
                   log=None, on_epoch=on_epoch)


def curves(spec, work):
    """Book-compat train loss at the book's epochs, and the gaps to the book."""
    from deepfm_gluon.experiments.book_numbers import BOOK_LOSS_CURVE
    split = load(spec, work)
    out = {"positives": round(float(split.train.labels.mean()), 4),
           "features": int(split.train.field_dims.sum())}
    gaps = []
    for kind in ("fm", "deepfm"):
        history = train(kind, split.train, split.test, seed=0, book_compat=True)
        book = BOOK_LOSS_CURVE[kind]
        ours = {e: round(history.epochs[e - 1]["train_loss"], 4) for e in book}
        out[kind] = ours
        out[kind + "_gap"] = {e: round(ours[e] - book[e], 4) for e in book}
        last = history.epochs[-1]  # d2l's exact-equality "acc"; the test one is only reported
        out[kind + "_acc"] = {"train": round(last["book_train_acc"], 3), "test": round(last["book_test_acc"], 3)}
        gaps += [abs(g) for g in out[kind + "_gap"].values()]
    out["worst_gap"] = round(max(gaps), 4)
    return out


def compare(spec, work, seeds, validation_share=0.1):
    """Correct-mode test AUC of FM and DeepFM per seed, under both protocols."""
    from scipy import stats
    from deepfm_gluon.training import evaluate
    split = load(spec, work)
    full, test = split.train, split.test
    order = np.random.default_rng(12345).permutation(len(full))
    cut = int(len(full) * validation_share)
    part = lambda rows: types.SimpleNamespace(  # noqa: E731
        features=full.features[rows], labels=full.labels[rows], field_dims=full.field_dims)
    validation, fit_part = part(order[:cut]), part(order[cut:])
    auc = {(p, k): [] for p in ("book", "early_stop") for k in ("fm", "deepfm")}
    chosen = {"fm": [], "deepfm": []}
    for seed in seeds:
        for kind in ("fm", "deepfm"):
            auc["book", kind].append(train(kind, full, test, seed, False).last()["test_auc"])
            seen = []  # (validation AUC, test AUC) per epoch; the test AUC is only read back
            on_epoch = lambda fitter, record: seen.append(  # noqa: E731
                (record["test_auc"], evaluate(fitter.logit_net, test.features, test.labels,
                                              fitter.contexts[0])["auc"]))
            train(kind, fit_part, validation, seed, False, on_epoch=on_epoch)
            best = int(np.argmax([v for v, _ in seen]))
            auc["early_stop", kind].append(seen[best][1])
            chosen[kind].append(best + 1)
    out = {"seeds": list(seeds), "early_stop_epochs": chosen}
    for protocol in ("book", "early_stop"):
        fm, deep = np.array(auc[protocol, "fm"]), np.array(auc[protocol, "deepfm"])
        out[protocol] = {"fm_auc": round(fm.mean(), 4), "fm_std": round(fm.std(ddof=1), 4),
                         "deepfm_auc": round(deep.mean(), 4), "deepfm_std": round(deep.std(ddof=1), 4),
                         "diff": round((deep - fm).mean(), 4), "deepfm_ahead": int((deep > fm).sum()),
                         "p_value": float(stats.ttest_rel(deep, fm).pvalue)}
    return out


def parse_sets(items):
    """['a=1,2', 'b=3'] -> {'a': [1.0, 2.0], 'b': [3.0]} with the spec's field types."""
    from deepfm_gluon.data.synthetic import SyntheticSpec
    types_ = {f.name: f.type for f in dataclasses.fields(SyntheticSpec)}
    grid = {}
    for item in items:
        name, _, values = item.partition("=")
        if name not in types_:
            raise SystemExit(f"--set {item}: no SyntheticSpec field {name!r}")
        cast = int if types_[name] in (int, "int") else float
        grid[name] = [cast(v) for v in values.split(",")]
    return grid


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["curves", "compare"])
    p.add_argument("--set", action="append", default=[], metavar="NAME=V1,V2",
                   help="SyntheticSpec values to try (default: the spec's defaults)")
    p.add_argument("--seeds", type=int, default=5, help="compare: training seeds 0..N-1")
    p.add_argument("--work", default=os.path.join("runs", "calibrate"), help="data cache")
    p.add_argument("--log", default=None, help="also append the JSON lines here")
    a = p.parse_args()
    grid = parse_sets(a.set)
    for combo in itertools.product(*grid.values()):
        values = dict(zip(grid, combo))
        spec = spec_from(values)
        result = curves(spec, a.work) if a.what == "curves" else compare(spec, a.work, range(a.seeds))
        line = json.dumps({"spec": values, a.what: result})
        print(line, flush=True)
        if a.log:
            with open(a.log, "a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
