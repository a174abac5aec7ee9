"""`deepfm-gluon reproduce` and `sweep`: the chapter's experiment and exercises."""
import os

from .common import add_data_args, add_train_args, load_data, positive_int, reject_lr, train_config


def add_parsers(subparsers):
    p = subparsers.add_parser("reproduce", help="the chapter's FM vs DeepFM experiment over seeds, as a report")
    add_data_args(p)
    add_train_args(p)
    p.add_argument("--seeds", type=positive_int, default=5, help="number of seeds (--seed .. --seed+N-1)")
    p.add_argument("--target-auc", type=float, default=None,
                   help="AUC for 'epochs to reach' (default: 99%% of FM's best mean test AUC)")
    p.add_argument("--out", default=os.path.join("runs", "reproduce"))
    p.set_defaults(run=run_reproduce)
    p = subparsers.add_parser("sweep", help="exercises: DeepFM MLP structures and FM embedding sizes")
    add_data_args(p)
    add_train_args(p)
    p.add_argument("--what", choices=["mlp", "factors", "all"], default="all")
    p.add_argument("--seeds", type=positive_int, default=1)
    p.add_argument("--out", default=os.path.join("runs", "sweep"))
    p.set_defaults(run=run_sweep)


def run_reproduce(args):
    from ..experiments.reproduce import reproduce
    reject_lr(args)
    split = load_data(args)
    config = train_config(args)
    seeds = list(range(args.seed, args.seed + args.seeds))
    report, verdict = reproduce(split, config, seeds, args.out,
                                book_compat=args.book_compat, target_auc=args.target_auc, log=print)
    print()
    print(report)
    print(f"report: {os.path.join(args.out, 'report.md')}")
    return 0


def run_sweep(args):
    from ..experiments.compare import format_table
    from ..experiments.sweep import run_sweep as sweep
    reject_lr(args)
    split = load_data(args)
    seeds = list(range(args.seed, args.seed + args.seeds))
    rows = sweep(split, train_config(args), args.what, seeds, args.out, log=print)
    print(format_table(rows, ("group", "variant", "test AUC", "best-epoch AUC", "test logloss", "test acc", "seconds")))
    print(f"plot: {os.path.join(args.out, 'sweep.png')}")
    return 0
