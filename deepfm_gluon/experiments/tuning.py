"""Tune one model on validation with Optuna: TPE sampling, median pruning on
the per-epoch validation metric, every trial early-stopped on validation.

A trial trains the model (experiments.runner) on the split's training
lines with the sampled hyperparameters, reports each epoch's validation
metric to Optuna (which may prune it), and is worth the validation metric
of the epoch early stopping restores. Test numbers are never read: the best
trial is the best validation value. Any number of worker processes, here or
on other machines, run ``run_worker`` on one study (experiments/
study_storage.py) until the budget of finished trials is reached.
"""
import dataclasses
import os
import time
import zlib

import optuna

from ..models.registry import get_spec
from ..training.config import TrainConfig
from ..training.loop import TrainingDiverged
from ..training.metrics import METRICS
from .runner import train_model
from .search_space import suggest
from .study_storage import claim, fail_stale_trials, progress

POLL_SECONDS = 2.0
DIRECTIONS = {"auc": "maximize", "logloss": "minimize"}


@dataclasses.dataclass
class TuneSettings:
    """What every trial of a study shares.

    ``model``: a registered name; ``trials``: the budget (finished trials,
    complete or pruned); ``space``: name -> search-space entry (or fixed
    value); ``base``: the TrainConfig a trial starts from (max epochs,
    ``early_stop`` patience, ``monitor``, seed; the sampled training settings
    replace its fields); ``model_overrides``: fixed model hyperparameters
    under the sampled ones; ``seed``: the sampler's (trial t samples with
    seed mixed with t, so workers never repeat each other); ``timeout``:
    seconds after which this worker starts no new trial (None: no limit).
    """

    model: str
    trials: int
    space: dict
    base: TrainConfig
    model_overrides: dict = dataclasses.field(default_factory=dict)
    seed: int = 0
    timeout: float = None

    @property
    def direction(self):
        return DIRECTIONS[self.base.monitor]


def make_sampler(seed, trial_number=0):
    """TPE, seeded by ``seed`` and the trial number (constant liar: parallel
    workers see running trials as bad ones and look elsewhere)."""
    mixed = zlib.crc32(f"{seed}:{trial_number}".encode()) & 0x7FFFFFFF
    return optuna.samplers.TPESampler(seed=mixed, constant_liar=True)


def make_pruner():
    """Median pruning: from the 2nd epoch on, a trial below the median of
    earlier trials at the same epoch stops (after 3 trials have finished)."""
    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)


class Surplus(Exception):
    """Other workers started the whole budget before this trial: it is given back."""


def trial_config(settings, trial):
    """(TrainConfig, model overrides) a trial trains with, sampled on ``trial``."""
    model_values, training_values = suggest(trial, settings.space)
    config = dataclasses.replace(settings.base, progress=False, **training_values)
    return config, {**settings.model_overrides, **model_values}


def objective(settings, split, trial, log=None):
    """Train one trial; returns its validation metric (the restored epoch's)."""
    if not claim(trial, settings.trials):  # noted while it runs: a finished (FAIL) trial takes no attributes
        trial.set_user_attr("note", "surplus: the budget was already started")
        raise Surplus()
    trial.study.sampler = make_sampler(settings.seed, trial.number)  # before any suggestion
    config, overrides = trial_config(settings, trial)
    monitor = settings.base.monitor

    def report(fitter, record):
        trial.report(record[f"val_{monitor}"], record["epoch"])
        if trial.should_prune():
            trial.set_user_attr("note", f"pruned after epoch {record['epoch']}")
            raise optuna.TrialPruned()

    start = time.perf_counter()
    try:
        _, history, _ = train_model(settings.model, split, config, model_overrides=overrides, log=None,
                                    on_epoch=report)
    except TrainingDiverged as err:
        trial.set_user_attr("note", f"diverged: {err}")
        raise optuna.TrialPruned() from None
    finally:
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 2))
    chosen = history.chosen
    trial.set_user_attr("epoch", chosen["epoch"])
    trial.set_user_attr("epochs_run", chosen["epochs_run"])
    for metric in METRICS:  # every validation metric of the restored epoch, for the trial tables
        if f"val_{metric.name}" in chosen:
            trial.set_user_attr(f"val_{metric.name}", chosen[f"val_{metric.name}"])
    if chosen["epoch"] == 0:
        trial.set_user_attr("note", "base-rate predictor (no epoch beat it on validation)")
    return chosen[f"val_{monitor}"]


def run_worker(study, split, settings, log=print):
    """Run trials of ``study`` on ``split`` (a DataSplit with a validation
    part) until the budget is finished by all workers together, or
    ``settings.timeout`` passes. Returns the numbers of the trials this
    worker finished."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # each trial is one line of ours
    started, mine = time.monotonic(), []
    while True:
        fail_stale_trials(study)
        finished, running, waiting = progress(study)
        if finished >= settings.trials:
            return mine
        if settings.timeout is not None and time.monotonic() - started >= settings.timeout:
            if log:
                log(f"--timeout {settings.timeout:g}s reached: {finished} of {settings.trials} trials finished")
            return mine
        if finished + running >= settings.trials and not waiting:
            time.sleep(POLL_SECONDS)  # the rest run elsewhere: wait for them (or for them to die)
            continue
        study.optimize(lambda trial: objective(settings, split, trial, log), n_trials=1,
                       catch=(Surplus,), gc_after_trial=False)
        trial = last_trial_of_this_process(study)
        if trial is not None and trial.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED):
            mine.append(trial.number)
            if log:
                log(describe_trial(trial, settings, study))


def last_trial_of_this_process(study):
    """The trial this process ran in its last ``optimize`` call (by its worker tag)."""
    for trial in reversed(study.get_trials(deepcopy=False)):
        tag = trial.user_attrs.get("worker") or {}
        if tag.get("pid") == os.getpid() and tag.get("trial") == trial.number:
            return trial
    return None


def describe_trial(trial, settings, study):
    """One line: the trial, its value or why it stopped, its parameters."""
    params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
    metric = f"validation {settings.base.monitor}"
    if trial.state == optuna.trial.TrialState.PRUNED:
        result = trial.user_attrs.get("note", "pruned")
    else:
        result = f"{metric} {trial.value:.4f} (epoch {trial.user_attrs.get('epoch')})"
    finished = progress(study)[0]
    return f"trial {trial.number} [{finished}/{settings.trials}]: {result}; {params}"


def identity(settings, data, split):
    """What a study's trials are comparable by: model, data, split sizes, protocol."""
    return {"model": settings.model, "data": data,
            "lines": {"train": len(split.train.labels), "validation": len(split.validation.labels)},
            "epochs": settings.base.epochs, "early_stop": settings.base.early_stop,
            "monitor": settings.base.monitor, "spec_module": get_spec(settings.model).module}
