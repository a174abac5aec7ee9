"""The model zoo side by side on one data set (docs/models.md): each model
with its registered defaults, Adam, early stopping (patience 2) on
validation AUC choosing the epoch; prints one markdown row per model with
the chosen epoch's validation and test numbers. Test numbers choose nothing.

    python benchmarks/zoo_table.py --data synthetic
    python benchmarks/zoo_table.py --data criteo:FILE --batch-size 256

Validation: 10% of the training lines (seed 0) for d2l-format data; for
criteo: data the lines just before the test tail (data/validation.py).
"""
import argparse
import json
import time

from mxnet import npx

from deepfm_gluon.data.sources import load_split, with_validation
from deepfm_gluon.experiments.runner import train_model
from deepfm_gluon.models import get_spec, model_names
from deepfm_gluon.training.config import TrainConfig


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="all", help="comma-separated names, or all")
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=30, help="most epochs")
    parser.add_argument("--json", help="also append one JSON line per model to this file")
    args = parser.parse_args()
    npx.set_np()
    models = model_names() if args.models == "all" else args.models.split(",")
    split = with_validation(load_split(args.data), 0.1, "time", 0)
    print(f"{args.data}: {len(split.train.labels)} train / {len(split.validation.labels)} validation / "
          f"{len(split.test.labels)} test lines, {sum(split.train.field_dims)} feature values")
    print("| model | lr | epoch chosen / run | val AUC | test AUC | test logloss | seconds |")
    print("|---|---|---|---|---|---|---|")
    for kind in models:
        start = time.perf_counter()
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, early_stop=2, progress=False)
        _, history, _ = train_model(kind, split, config, log=None)
        chosen, seconds = history.chosen, time.perf_counter() - start
        print(f"| {kind} | {config.lr or get_spec(kind).lr:g} | {chosen['epoch']} / {len(history.epochs)} | "
              f"{chosen['val_auc']:.4f} | {chosen['test_auc']:.4f} | {chosen['test_logloss']:.4f} | "
              f"{seconds:.0f} |", flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps({"model": kind, "data": args.data, "chosen": chosen,
                                    "epochs_run": len(history.epochs), "seconds": seconds}) + "\n")


if __name__ == "__main__":
    main()
