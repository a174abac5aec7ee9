"""`deepfm-gluon compare`: FM vs DeepFM with book settings, one table."""
import os

from .common import add_data_args, add_train_args, load_data, reject_lr, train_config


def add_parser(subparsers):
    p = subparsers.add_parser("compare", help="train FM and DeepFM on the same data; print a table")
    add_data_args(p)
    add_train_args(p)
    p.add_argument("--out", default=os.path.join("runs", "compare"), help="output directory")
    p.set_defaults(run=run)


def run(args):
    from ..experiments.compare import compare_models, format_table
    reject_lr(args)
    split = load_data(args)
    config = train_config(args)
    rows, histories = compare_models(split, config, out_dir=args.out)
    mode = next(iter(histories.values())).mode
    print(f"\nFM vs DeepFM on {split.name}, {config.epochs} epochs, book hyperparameters, {mode} mode:")
    print(format_table(rows))
    print(f"curves: {os.path.join(args.out, 'compare.png')}")
    return 0
