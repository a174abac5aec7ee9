"""`deepfm-gluon compare`: FM vs DeepFM with book settings, one table."""
import os

from ..experiments.compare import compare_models, format_table
from ..training.config import RunSpec
from .common import load_data, reject_lr, train_config


def run(args):
    reject_lr(args)
    config = train_config(args)
    RunSpec(config=config, data=args.data, hash_buckets=args.hash_buckets).validate()
    split = load_data(args)
    rows, histories = compare_models(split, config, out_dir=args.out)
    mode = next(iter(histories.values())).mode
    print(f"\nFM vs DeepFM on {split.name}, {config.epochs} epochs, book hyperparameters, {mode} mode:")
    print(format_table(rows))
    print(f"curves: {os.path.join(args.out, 'compare.png')}")
    return 0
