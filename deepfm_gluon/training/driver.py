"""Drive a fitter through its epochs: checkpoints after each, resume from the last.

The caller chooses the fitter (experiments/runner.py: dense ``Fitter``,
``SparseFitter`` or a distributed worker's fitter) and hands it to
``train_epochs``; ``fit`` is the short form for one process, choosing the
dense or the sparse fitter from ``config.sparse``.
"""
from .checkpoint import restore_checkpoint, save_checkpoint
from .config import RunSpec
from .loop import Fitter
from .sparse import SparseFitter


def train_epochs(fitter, train, test, log=print, checkpoint_dir=None, resume=False,
                 run_args=None, on_epoch=None, write_checkpoints=True):
    """Run ``fitter`` (not yet initialized) for ``fitter.config.epochs`` epochs.

    ``train``/``test``: data sets with .features int (n, num_fields) and
    .labels (n,). With ``checkpoint_dir``, a checkpoint is written after every
    epoch (``run_args``, a JSON-ready dict, go into it); ``resume=True``
    continues from the latest one there. ``on_epoch(fitter, record)`` runs
    after each epoch; ``log(line)`` gets one line per epoch. ``write_checkpoints=False``
    only reads them (a distributed worker other than rank 0). Returns the History.
    """
    fitter.initialize()
    batches = fitter.make_batches(train)
    done = restore_checkpoint(checkpoint_dir, fitter, batches) if resume else 0
    if resume and log is not None:
        log(f"resumed from {checkpoint_dir} after epoch {done}")
    for epoch in range(done + 1, fitter.config.epochs + 1):
        record = fitter.run_epoch(epoch, batches, test, log)
        if checkpoint_dir is not None and write_checkpoints:
            fitter.check_finite_parameters(epoch)
            save_checkpoint(checkpoint_dir, fitter, batches, run_args)
        if on_epoch is not None:
            on_epoch(fitter, record)
    return fitter.history


def fit(net, kind, train, test, config, log=print, kvstore="device", on_epoch=None,
        checkpoint_dir=None, resume=False, run_args=None):
    """Train ``net`` (an FM/DeepFM Block of ``kind`` 'fm'/'deepfm') in this
    process on ``train``, scoring on ``test`` after every epoch; returns the History.

    ``train``/``test`` have .features int (n, num_fields) and .labels (n,);
    ``config`` is a TrainConfig (``config.sparse`` picks ``SparseFitter``);
    ``kvstore``: 'device' or 'local'. Checkpoints and ``on_epoch``: see
    ``train_epochs``. Impossible combinations raise DeepFMError (RunSpec.validate);
    distributed workers train through distributed.worker.
    """
    RunSpec(model=kind, config=config, kvstore=kvstore, checkpoint_dir=checkpoint_dir,
            resume=resume).validate()
    fitter = (SparseFitter if config.sparse else Fitter)(net, kind, config, kvstore=kvstore)
    return train_epochs(fitter, train, test, log=log, checkpoint_dir=checkpoint_dir, resume=resume,
                        run_args=run_args, on_epoch=on_epoch)
