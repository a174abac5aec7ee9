"""`deepfm-gluon train`: one model, saved with everything needed to serve it."""
import gc
import os

from ..errors import DeepFMError
from ..experiments.calibrate import calibrate_model_dir
from ..experiments.explain_run import report_run
from ..experiments.runner import train_model
from ..training.checkpoint import read_latest
from ..training.config import RunSpec, resume_problem
from ..training.metrics import format_scores, unprefixed
from .config_args import apply_config_file, typed_flags
from .common import RESUMED_ARGS, load_data, model_overrides, train_config
from .parser import MODEL_FLAGS
from .run_folder import check_out_path, claim_run_folder, lock_run_folder



def run_spec_from_args(args, note=print):
    """The RunSpec the flags describe, validated. dist_async jobs write no
    checkpoints (the servers hold the optimizer states): unless resuming,
    they are left out."""
    config = train_config(args)
    checkpoints = None if args.no_checkpoints else os.path.join(args.resume or args.out, "checkpoints")
    if checkpoints and not args.resume and args.kvstore == "dist_async":
        checkpoints = None
    spec = RunSpec(model=args.model, config=config, data=args.data, hash_buckets=args.hash_buckets,
                   model_overrides=model_overrides(args, args.model, getattr(args, "typed_model_flags", ())),
                   kvstore=args.kvstore,
                   checkpoint_dir=checkpoints, resume=bool(args.resume), out_dir=args.out)
    return spec.validate()


def apply_resume(args):
    """Take the interrupted run's arguments from its latest checkpoint; only
    --epochs may differ (it extends the run); other changes are refused."""
    given = typed_flags(args, RESUMED_ARGS)
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
    args.resolved_preset = None  # resolve again from the saved values


def run(args):
    # the dedicated model flags typed here (a resumed run's saved values are not "typed")
    args.typed_model_flags = [dest for dest in MODEL_FLAGS.values() if getattr(args, dest, None) is not None]
    lock = None
    if getattr(args, "config", None):
        if args.resume:
            raise DeepFMError("--config and --resume exclude each other (a resumed run keeps its settings)")
        apply_config_file(args)
    if args.resume:
        if args.no_checkpoints:  # fail before reading (the other checks need the saved flags)
            RunSpec(resume=True).validate()
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
    split = load_data(args)  # the validation part the flags ask for; the final split printed once
    for line in notes:
        print(line)
    run_args = {name: getattr(args, name, None) for name in RESUMED_ARGS}
    run_args["mlp_dims"] = list(args.mlp_dims) if args.mlp_dims is not None else None
    # The trained net is not kept: it is saved, and the report reads the saved model. Held
    # here, it and the optimizer's moments (freed only by the cycle collector: Gluon's
    # blocks and trainer refer to each other) sat beside the report's copy (issue 21)
    history, seconds = train_model(spec.model, split, spec.config, out_dir=spec.out_dir,
                                   model_overrides=spec.model_overrides, checkpoint_dir=spec.checkpoint_dir,
                                   resume=spec.resume, run_args=run_args, kvstore=spec.kvstore)[1:]
    gc.collect()
    last = history.chosen or history.last()
    if last.get("test_auc") is None:  # a sparse job's other ranks: only rank 0 evaluates
        print(f"{args.model} ({history.mode} mode) done in {seconds:.1f}s: train loss {last['train_loss']:.4f}")
    else:
        which = "final epoch"
        if history.chosen:
            which = (f"epoch {last['epoch']} of {last['epochs_run']} (best validation {last['monitor']}; "
                     "its weights were restored and saved)" if last["epoch"] else
                     f"the base-rate predictor (no epoch of {last['epochs_run']} beat it on validation)")
        print(f"{args.model} ({history.mode} mode) done in {seconds:.1f}s, {which}: "
              f"{format_scores(unprefixed(last, 'test_'), 'test ')}")
    last = history.last()
    if spec.config.book_compat:
        print(f"book's lines: loss {last['train_loss']:.3f}, train acc {last['book_train_acc']:.3f}, "
              f"test acc {last['book_test_acc']:.3f}")
    rank = last.get("rank", 0)  # set by distributed training; rank 0 writes the model
    print(f"saved to {args.out}" if rank == 0 else f"rank {rank}: rank 0 saves the model")
    if rank == 0 and args.calibrate:
        calibrate_model_dir(args.out, args.calibrate, split.validation, split.test)
    if rank == 0 and not args.no_report:
        report_run(args.out, split, history)
    return 0
