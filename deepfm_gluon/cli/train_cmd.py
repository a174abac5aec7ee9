"""`deepfm-gluon train`: one model, saved with everything needed to serve it."""
import os

from ..errors import DeepFMError

from .common import add_data_args, add_train_args, load_data, positive_int, train_config


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="train FM or DeepFM and save it")
    p.add_argument("--model", choices=["deepfm", "fm"], default="deepfm")
    add_data_args(p)
    add_train_args(p)
    p.add_argument("--num-factors", type=positive_int, default=None,
                   help="embedding size (default: the book's, DeepFM 10, FM 20)")
    p.add_argument("--mlp-dims", default=None,
                   help="DeepFM hidden sizes, comma-separated (default: 30,20,10)")
    p.add_argument("--out", default=os.path.join("runs", "model"), help="output directory")
    p.add_argument("--resume", metavar="DIR", default=None,
                   help="continue the run whose --out was DIR from its latest checkpoint "
                        "(its saved arguments are used)")
    p.add_argument("--no-checkpoints", action="store_true",
                   help="do not write OUT/checkpoints after every epoch")
    p.add_argument("--kvstore", default="device", choices=["device", "local", "dist_sync", "dist_async"],
                   help="gradient aggregation across devices (device, local) or machines (dist_*: "
                        "set by `deepfm-gluon launch`, see docs/distributed.md)")
    p.set_defaults(run=run)

RESUMED_ARGS = ("model", "data", "data_dir", "strict", "epochs", "batch_size", "lr", "seed", "devices",
                "book_compat", "num_factors", "mlp_dims", "out", "hash_buckets", "sparse", "kvstore")


def model_overrides(args):
    overrides = {"num_factors": args.num_factors}
    if args.mlp_dims is not None:
        if args.model != "deepfm":
            raise DeepFMError("--mlp-dims applies to --model deepfm only")
        try:
            overrides["mlp_dims"] = [int(d) for d in args.mlp_dims.split(",") if d.strip()]
        except ValueError:
            raise DeepFMError(f"--mlp-dims {args.mlp_dims!r}: expected integers like 30,20,10") from None
    return overrides


def apply_resume(args):
    """Take the interrupted run's arguments from its latest checkpoint."""
    from ..training.checkpoint import read_latest
    _, state = read_latest(os.path.join(args.resume, "checkpoints"))
    saved = state.get("run_args") or {}
    for name in RESUMED_ARGS:
        if name in saved:
            setattr(args, name, saved[name])
    args.out = args.resume


def run(args):
    from ..experiments.runner import train_model
    if args.resume:
        if args.no_checkpoints:
            raise DeepFMError("--resume and --no-checkpoints exclude each other")
        apply_resume(args)
        if getattr(args, "sparse", False):
            raise DeepFMError(f"{args.resume}: --sparse runs write no checkpoints to resume from")
    split = load_data(args)
    config = train_config(args)
    checkpoints = None if args.no_checkpoints else os.path.join(args.out, "checkpoints")
    if config.sparse and checkpoints:
        print("note: --sparse training writes no per-epoch checkpoints (its embedding optimizer "
              "states live outside the Trainer); the final model is saved as usual")
        checkpoints = None
    run_args = {name: getattr(args, name) for name in RESUMED_ARGS}
    _, history, seconds = train_model(args.model, split, config, out_dir=args.out,
                                      model_overrides=model_overrides(args),
                                      checkpoint_dir=checkpoints, resume=bool(args.resume),
                                      run_args=run_args, kvstore=args.kvstore)
    last = history.last()
    print(f"{args.model} ({history.mode} mode) done in {seconds:.1f}s: test AUC {last['test_auc']:.4f}, "
          f"test logloss {last['test_logloss']:.4f}, test acc {last['test_acc']:.3f}")
    if config.book_compat:
        print(f"book's lines: loss {last['train_loss']:.3f}, train acc {last['book_train_acc']:.3f}, "
              f"test acc {last['book_test_acc']:.3f}")
    rank = last.get("rank", 0)  # set by distributed training; rank 0 writes the model
    print(f"saved to {args.out}" if rank == 0 else f"rank {rank}: rank 0 saves the model")
    return 0
