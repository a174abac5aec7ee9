"""`deepfm-gluon reproduce` and `sweep`: the chapter's experiment and exercises."""
import dataclasses
import os

from ..experiments.compare import TEST_COLUMNS, format_table
from ..errors import DeepFMError
from ..experiments.reproduce import KINDS, reproduce
from ..experiments.sweep import run_sweep as sweep
from ..training.config import RunSpec
from .common import add_validation, load_data, reject_lr, train_config


def checked_config(args):
    reject_lr(args)
    config = train_config(args)
    RunSpec(config=config, data=args.data, hash_buckets=args.hash_buckets).validate()
    return config


def run_reproduce(args):
    if args.tune:  # the chapter's two models, tuned with the same budget: compare --tune's path
        if args.book_compat:
            raise DeepFMError("--tune and --book-compat exclude each other (tuning trains in correct mode)")
        from .tuned_compare_cmd import run as run_tuned  # imported here to keep start-up fast (tuning)
        return run_tuned(args, list(KINDS))
    config = checked_config(args)
    split = load_data(args, validation=False)
    seeds = list(range(args.seed, args.seed + args.seeds))
    validated = add_validation(split, args)  # the early-stopping protocol, judged beside the book's
    report, verdict = reproduce(split, dataclasses.replace(config, early_stop=None), seeds, args.out,
                                book_compat=args.book_compat, target_auc=args.target_auc, log=print,
                                validated=validated, patience=config.early_stop or 2)
    print()
    print(report)
    print(f"report: {os.path.join(args.out, 'report.md')}")
    return 0


def run_sweep(args):
    config = checked_config(args)
    split = load_data(args)  # with --early-stop: each variant's restored best-validation model
    seeds = list(range(args.seed, args.seed + args.seeds))
    rows = sweep(split, config, args.what, seeds, args.out, log=print)
    print(format_table(rows, ("group", "variant", "test AUC", "peak test AUC (hindsight)",
                              *(c for c in TEST_COLUMNS if c != "test AUC"), "seconds")))
    print(f"plot: {os.path.join(args.out, 'sweep.png')}")
    return 0
