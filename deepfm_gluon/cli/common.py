"""What several commands do with their parsed flags: configs, data, checks."""
import os

from ..data.sources import load_split
from ..errors import DeepFMError
from ..training.config import TrainConfig


def train_config(args):
    """The TrainConfig that the shared training flags describe."""
    return TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                       book_compat=args.book_compat, devices=args.devices,
                       progress=not args.no_progress and os.isatty(2),
                       sparse=getattr(args, "sparse", False))  # None: by table size (runner)


def criteo_options(args):
    """Criteo options from the flags (None: the defaults)."""
    if not getattr(args, "hash_buckets", None):
        return None
    from ..data.criteo import CriteoOptions  # Criteo runs only: imported here to keep start-up fast
    return CriteoOptions(hash_buckets=args.hash_buckets)


def load_data(args):
    """Load the split the data flags name; print what was loaded and what was skipped."""
    split = load_split(args.data, data_dir=args.data_dir, strict=args.strict,
                       criteo=criteo_options(args))
    print(split.describe())
    for report in (split.train.skip_report, split.test.skip_report):
        if report.skipped:
            print("warning: " + report.summary())
    return split


def reject_lr(args):
    """Commands that train both models use each model's book rate; a single
    --lr would silently apply to neither."""
    if args.lr is not None:
        raise DeepFMError("--lr: this command trains each model with its book learning rate "
                          "(FM 0.02, DeepFM 0.01); use `train --lr` for another rate")
