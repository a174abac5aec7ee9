"""Flags shared by several subcommands, and turning them into configs."""
import argparse
import os

from ..training.config import TrainConfig


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_data_args(parser):
    parser.add_argument("--data", default="synthetic",
                        help="'synthetic' (offline default), 'ctr' (the book's data; downloaded "
                             "if absent), a directory with train.csv and test.csv, or criteo:PATH "
                             "(a Criteo file; last 10%% of lines held out; see docs/criteo.md)")
    parser.add_argument("--hash-buckets", type=positive_int, default=None,
                        help="criteo:PATH only: hash each field into this many rows instead of "
                             "the book's min-count vocabulary")
    parser.add_argument("--data-dir", default=None,
                        help="cache folder for data sets (default: $DEEPFM_GLUON_DATA, else ../data)")
    parser.add_argument("--strict", action="store_true",
                        help="stop at the first malformed line instead of counting and skipping it")


def add_train_args(parser, epochs=30):
    parser.add_argument("--epochs", type=positive_int, default=epochs)
    parser.add_argument("--batch-size", type=positive_int, default=2048)
    parser.add_argument("--lr", type=positive_float, default=None,
                        help="learning rate (default: the book's, DeepFM 0.01, FM 0.02)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--devices", default=None,
                        help="auto (default: all GPUs, else CPU), cpu, cpu:N, gpu, or gpu(0),gpu(1)")
    parser.add_argument("--book-compat", action="store_true",
                        help="reproduce the book exactly: double-sigmoid loss and d2l's accuracy")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--sparse", action="store_true",
                        help="row-sparse embedding updates (lazy Adam): step time independent of "
                             "the vocabulary size; for large data such as Criteo")


def train_config(args):
    return TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                       book_compat=args.book_compat, devices=args.devices,
                       progress=not args.no_progress and os.isatty(2),
                       sparse=getattr(args, "sparse", False))


def load_data(args):
    from ..data.sources import load_split
    criteo = None
    if getattr(args, "hash_buckets", None):
        from ..data.criteo import CriteoOptions
        from ..errors import DeepFMError
        if not args.data.startswith("criteo:"):
            raise DeepFMError("--hash-buckets applies to --data criteo:PATH only")
        criteo = CriteoOptions(hash_buckets=args.hash_buckets)
    split = load_split(args.data, data_dir=args.data_dir, strict=args.strict, criteo=criteo)
    print(split.describe())
    for report in (split.train.skip_report, split.test.skip_report):
        if report.skipped:
            print("warning: " + report.summary())
    return split


def reject_lr(args):
    """Commands that train both models use each model's book rate; a single
    --lr would silently apply to neither."""
    if args.lr is not None:
        from ..errors import DeepFMError
        raise DeepFMError("--lr: this command trains each model with its book learning rate "
                          "(FM 0.02, DeepFM 0.01); use `train --lr` for another rate")
