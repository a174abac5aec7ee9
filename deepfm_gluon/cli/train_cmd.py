"""`deepfm-gluon train`: one model, saved with everything needed to serve it."""
import os

from ..errors import DeepFMError
from ..experiments.runner import run as run_spec
from ..training.checkpoint import read_latest
from ..training.config import RunSpec, is_dist_kvstore, resume_problem
from .common import load_data, train_config
from .run_folder import check_out_path, claim_run_folder, lock_run_folder

RESUMED_ARGS = ("model", "data", "data_dir", "strict", "epochs", "batch_size", "lr", "seed", "devices",
                "book_compat", "num_factors", "mlp_dims", "out", "hash_buckets", "sparse", "kvstore")
SPARSE_NOTE = ("note: --sparse training writes no per-epoch checkpoints (its embedding optimizer "
               "states live outside the Trainer); the final model is saved as usual")


def model_overrides(args):
    overrides = {"num_factors": args.num_factors}
    if args.mlp_dims is not None:
        try:
            overrides["mlp_dims"] = [int(d) for d in args.mlp_dims.split(",") if d.strip()]
        except ValueError:
            raise DeepFMError(f"--mlp-dims {args.mlp_dims!r}: expected integers like 30,20,10") from None
    return overrides


def run_spec_from_args(args, note=print):
    """The RunSpec the flags describe, validated. Sparse and distributed runs
    write no checkpoints: unless resuming, they are left out (sparse with a
    ``note``), as `train` always did."""
    config = train_config(args)
    checkpoints = None if args.no_checkpoints else os.path.join(args.resume or args.out, "checkpoints")
    if checkpoints and not args.resume and (config.sparse or is_dist_kvstore(args.kvstore)):
        if config.sparse:
            note(SPARSE_NOTE)
        checkpoints = None
    spec = RunSpec(model=args.model, config=config, data=args.data, hash_buckets=args.hash_buckets,
                   model_overrides=model_overrides(args), kvstore=args.kvstore,
                   checkpoint_dir=checkpoints, resume=bool(args.resume), out_dir=args.out)
    return spec.validate()


def typed_flags(args):
    """The RESUMED_ARGS typed on the command line (argparse's unique-prefix
    abbreviations included): name -> parsed value."""
    flags = {"--" + name.replace("_", "-"): name for name in RESUMED_ARGS}
    typed = {}
    for token in getattr(args, "argv", []):
        if not token.startswith("--"):
            continue
        word = token.split("=", 1)[0]
        matches = [flag for flag in flags if flag == word] or [flag for flag in flags if flag.startswith(word)]
        if len(matches) == 1:
            typed[flags[matches[0]]] = getattr(args, flags[matches[0]])
    return typed


def apply_resume(args):
    """Take the interrupted run's arguments from its latest checkpoint; only
    --epochs may differ (it extends the run); other changes are refused."""
    given = typed_flags(args)
    _, state = read_latest(os.path.join(args.resume, "checkpoints"))
    saved = dict(state.get("run_args") or {})
    if "out" in given and os.path.realpath(given["out"]) == os.path.realpath(args.resume):
        del given["out"]
    if "out" in given:
        saved.setdefault("out", args.resume)
    problem = resume_problem(saved, given, done_epochs=state.get("epoch"))
    if problem:
        raise DeepFMError(problem)
    for name in RESUMED_ARGS:
        if name in saved and name not in given:
            setattr(args, name, saved[name])
    args.out = args.resume


def run(args):
    lock = None
    if args.resume:
        run_spec_from_args(args)  # e.g. --resume with --no-checkpoints: fail before reading
        apply_resume(args)
    notes = []
    spec = run_spec_from_args(args, note=notes.append)
    if not spec.distributed:  # workers of one job share --out; rank 0 alone writes it
        lock = lock_run_folder(args.out) if args.resume else claim_run_folder(args.out, args.overwrite)
    else:
        check_out_path(args.out)
    try:
        return train_and_report(args, spec, notes)
    finally:
        if lock is not None:
            lock.close()


def train_and_report(args, spec, notes):
    split = load_data(args)
    for line in notes:
        print(line)
    run_args = {name: getattr(args, name) for name in RESUMED_ARGS}
    _, history, seconds = run_spec(spec, split, run_args=run_args)
    last = history.last()
    print(f"{args.model} ({history.mode} mode) done in {seconds:.1f}s: test AUC {last['test_auc']:.4f}, "
          f"test logloss {last['test_logloss']:.4f}, test acc {last['test_acc']:.3f}")
    if spec.config.book_compat:
        print(f"book's lines: loss {last['train_loss']:.3f}, train acc {last['book_train_acc']:.3f}, "
              f"test acc {last['book_test_acc']:.3f}")
    rank = last.get("rank", 0)  # set by distributed training; rank 0 writes the model
    print(f"saved to {args.out}" if rank == 0 else f"rank {rank}: rank 0 saves the model")
    return 0
