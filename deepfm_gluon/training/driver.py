"""Drive a fitter through its epochs: checkpoints after each, resume from the last.

The caller chooses the fitter (experiments/runner.py: dense ``Fitter``,
``SparseFitter`` or a distributed worker's fitter) and hands it to
``train_epochs``; ``fit`` is the short form for one process, choosing the
dense or the sparse fitter from ``config.sparse``.
"""
from ..errors import DeepFMError
from .base_rate import base_rate, base_rate_logloss, become_base_rate_predictor
from .checkpoint import CheckpointWriter, restore_checkpoint
from .config import RunSpec
from .early_stopping import BestWeights, EarlyStopping
from .loop import Fitter, evaluate
from .metrics import format_scores, prefixed, unprefixed
from .sparse import SparseFitter


def train_epochs(fitter, train, test, log=print, checkpoint_dir=None, resume=False,
                 run_args=None, on_epoch=None, validation=None, write_checkpoints=True):
    """Run ``fitter`` (not yet initialized) for ``fitter.config.epochs`` epochs.

    ``train``/``test``/``validation``: data sets with .features int (n,
    num_fields) and .labels (n,); ``validation`` (None: none) is scored after
    every epoch (``val_<metric>`` for every metric of ``metrics.METRICS`` in the record). With
    ``config.early_stop`` = P, training stops after P epochs without a better
    validation ``config.monitor``, the best epoch's parameters are loaded back
    into the net, and ``history.chosen`` holds that epoch and the restored
    net's test metrics. Only epochs whose validation logloss beats the
    base-rate predictor's (training click rate for every line) are eligible;
    if none is, the net becomes that predictor (training/base_rate.py) and
    ``history.chosen['epoch']`` is 0. With ``checkpoint_dir``, a checkpoint is written after
    every epoch (``run_args``, a JSON-ready dict, go into it) and the best
    weights live there too, so ``resume=True`` continues with them.
    ``on_epoch(fitter, record)`` runs after each epoch; ``log(line)`` gets one
    line per epoch. ``write_checkpoints=False`` only reads checkpoints.
    Checkpoints are written in a background thread while the next epoch
    trains (training/checkpoint.py ``CheckpointWriter``); the last one is
    complete when this returns.
    In a distributed job only the leading worker (``fitter.leads``: rank 0)
    scores validation, keeps the best weights and writes checkpoints; every
    worker gets its stopping decision (``fitter.share_stopping``), so all stop
    after the same epoch. Returns the History.
    """
    config = fitter.config
    if config.early_stop is not None and validation is None:
        raise DeepFMError("--early-stop needs a validation split (the test set never chooses the epoch)")
    fitter.initialize()
    batches = fitter.make_batches(train)
    done = restore_checkpoint(checkpoint_dir, fitter, batches) if resume else 0
    if resume and log is not None:
        log(f"resumed from {checkpoint_dir} after epoch {done}")
    leads = fitter.leads  # this process scores validation, chooses the epoch and writes
    stopper, best = None, None
    rate = base_rate(train.labels)
    floor = base_rate_logloss(rate, validation.labels) if validation is not None else None
    if config.early_stop is not None:
        saved = fitter.history.early_stopping
        stopper = (EarlyStopping.from_state(saved) if saved else
                   EarlyStopping(config.early_stop, config.monitor))
        best = BestWeights(fitter.net, checkpoint_dir) if leads else None
    writer = CheckpointWriter(checkpoint_dir) if checkpoint_dir is not None else None
    finished = False
    try:
        for epoch in range(done + 1, config.epochs + 1):
            if stopper is not None and stopper.should_stop:
                break
            record = fitter.run_epoch(epoch, batches, test, log)
            if validation is not None and leads:
                score_validation(fitter, validation, record, log)
            if stopper is not None:
                if leads:
                    previous = stopper.best_epoch
                    eligible = record["val_logloss"] < floor
                    if stopper.update(epoch, record[f"val_{config.monitor}"], eligible):
                        best.save(epoch, previous)
                # every worker of a job takes the leader's decision
                stopper = EarlyStopping.from_state(fitter.share_stopping(stopper.state()))
                fitter.history.early_stopping = stopper.state()
            if checkpoint_dir is not None and write_checkpoints and leads:
                fitter.check_finite_parameters(epoch)
                writer.save(fitter, batches, run_args)
            if on_epoch is not None:
                on_epoch(fitter, record)
        if stopper is not None and leads:
            restore_best(fitter, stopper, best, test, log, rate, floor)
        finished = True
    finally:
        if best is not None:
            best.close()
        if writer is not None:
            _wait_for_checkpoint(writer, raise_error=finished)
    return fitter.history


def _wait_for_checkpoint(writer, raise_error):
    """Join the last checkpoint write; its error is raised unless another one is already on its way."""
    try:
        writer.wait()
    except Exception:
        if raise_error:
            raise


def score_validation(fitter, validation, record, log=None):
    """Add the validation set's ``val_<metric>`` (every metric of ``METRICS``) to ``record``."""
    scores = evaluate(fitter.logit_net, validation.features, validation.labels, fitter.contexts[0],
                      fitter.config.eval_batch_size)
    record.update(prefixed(scores, "val_"))
    if log is not None:
        log(f"{fitter.kind} epoch {record['epoch']}: {format_scores(scores, 'validation ')}")


def restore_best(fitter, stopper, best, test, log=None, rate=None, floor=None):
    """Load the best eligible validation epoch's parameters into the net (or,
    with none, make it the base-rate predictor) and score it once on
    ``test``: ``history.chosen``."""
    if stopper.best_epoch is None:
        become_base_rate_predictor(fitter.net, rate, fitter.spec.output_bias)
        chosen = {"val_auc": 0.5, "val_logloss": floor, "train_loss": float("nan")}
    else:
        best.restore(stopper.best_epoch)
        chosen = next(r for r in fitter.history.epochs if r["epoch"] == stopper.best_epoch)
    scores = evaluate(fitter.logit_net, test.features, test.labels, fitter.contexts[0],
                      fitter.config.eval_batch_size)
    fitter.history.chosen = {"epoch": stopper.best_epoch or 0, "monitor": stopper.monitor,
                             "epochs_run": len(fitter.history.epochs),
                             **prefixed(unprefixed(chosen, "val_"), "val_"),  # every validation metric
                             "train_loss": chosen["train_loss"], "base_rate": rate, "base_rate_val_logloss": floor,
                             **prefixed(scores, "test_")}
    if stopper.best_epoch is None:
        if log is not None:
            log(f"{fitter.kind}: warning: no epoch's validation logloss beat the base rate's "
                f"({floor:.4f}); the saved model predicts the training click rate {rate:.4f} for "
                "every line (try a lower --lr or --preset bars)")
        return
    if log is not None:
        log(f"{fitter.kind}: early stopping restored epoch {stopper.best_epoch} "
            f"(best validation {stopper.monitor} {stopper.best_value:.4f}); its "
            f"{format_scores(scores, 'test ')}")


def fit(net, kind, train, test, config, log=print, kvstore="device", on_epoch=None,
        checkpoint_dir=None, resume=False, run_args=None, validation_data=None):
    """Train ``net`` (a built model Block of registered ``kind``) in this
    process on ``train``, scoring on ``test`` after every epoch; returns the
    History. The epoch loop for code that holds a net already (tests,
    benchmarks); to train a model from data, use the entry point
    ``experiments.train_model``.

    ``train``/``test`` have .features int (n, num_fields) and .labels (n,);
    ``config`` is a TrainConfig (``config.sparse`` picks ``SparseFitter``);
    ``kvstore``: 'device' or 'local'. Checkpoints and ``on_epoch``: see
    ``train_epochs``. Impossible combinations raise DeepFMError (RunSpec.validate);
    distributed workers train through distributed.worker. ``validation_data``
    (same shape as ``test``): scored every epoch; early stopping
    (``config.early_stop``) chooses the epoch by it, FuxiCTR's
    ``fit(train, validation_data=...)``.
    """
    RunSpec(model=kind, config=config, kvstore=kvstore, checkpoint_dir=checkpoint_dir,
            resume=resume).validate()
    fitter = (SparseFitter if config.sparse else Fitter)(net, kind, config, kvstore=kvstore)
    return train_epochs(fitter, train, test, log=log, checkpoint_dir=checkpoint_dir, resume=resume,
                        run_args=run_args, on_epoch=on_epoch, validation=validation_data)
