"""Optuna studies in a real database, shared by processes and machines.

- Storage: any URL Optuna's RDBStorage takes (``sqlite:///runs/tune/study.db``,
  ``postgresql://...``, ``mysql+pymysql://...``). A running trial beats a
  heartbeat every HEARTBEAT_SECONDS; one silent for GRACE_SECONDS (its
  process died, here or on another machine) is marked failed and its
  parameters are queued again (Optuna's RetryHeartbeatStaleTrialCallback),
  so no trial is lost. A dead process on this machine is noticed at once:
  each running trial names its host and process id (``worker`` user
  attribute), and ``reap_dead_local_trials`` fails those whose process is
  gone the same way.
- Identity: a study remembers the model and data it tunes (user
  attributes); opening it for another model or data set is refused unless
  the caller asks to continue it.
- Budget: ``progress`` counts finished (complete + pruned), running and
  queued trials; a worker starts a trial only while finished + running is
  below the budget, and gives a trial back (``surplus``) when others
  started enough before it, so N trials run between all the workers, none twice.
"""
import os
import socket
import time
import warnings

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from ..errors import DeepFMError

HEARTBEAT_SECONDS = 10
GRACE_SECONDS = 30
WORKER_ATTR = "worker"
IDENTITY_ATTR = "deepfm_gluon"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
OPEN_ATTEMPTS = 4


def _quiet_experimental():
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # our own lines say what happens
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed")


def open_storage(url):
    """An RDBStorage for ``url`` with heartbeats and retries of dead trials;
    a database that cannot be opened is one DeepFMError line."""
    _quiet_experimental()
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return RDBStorage(url, engine_kwargs=engine_kwargs, heartbeat_interval=HEARTBEAT_SECONDS,
                              grace_period=GRACE_SECONDS,
                              heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3))
        except Exception as err:  # SQLAlchemy/driver errors of every kind: one line, not a traceback
            if attempt + 1 < OPEN_ATTEMPTS:  # two processes creating the tables at once: one loses, retries
                time.sleep(0.5 * (attempt + 1))
                continue
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise DeepFMError(f"--storage {safe_url(url)}: cannot open the database ({reason})") from None


def safe_url(url):
    """``url`` without its password, for messages and reports."""
    head, sep, tail = url.partition("://")
    if "@" not in tail:
        return url
    credentials, _, host = tail.rpartition("@")
    return f"{head}{sep}{credentials.split(':', 1)[0]}:***@{host}"


def open_study(storage, name, identity, direction="maximize", sampler=None, pruner=None,
               continue_study=False):
    """Create study ``name`` in ``storage`` or load it. ``identity`` (a
    JSON-ready dict with 'model' and 'data') is stored on creation; an
    existing study with another model or data is refused (DeepFMError)
    unless ``continue_study``."""
    try:
        study = optuna.create_study(storage=storage, study_name=name, direction=direction, sampler=sampler,
                                    pruner=pruner, load_if_exists=True)
    except ValueError as err:  # e.g. a study of that name optimising the other direction
        raise DeepFMError(f"study {name!r}: {err}") from None
    saved = study.user_attrs.get(IDENTITY_ATTR)
    if saved is None:
        study.set_user_attr(IDENTITY_ATTR, identity)
        return study
    for key in ("model", "data"):
        if saved.get(key) != identity.get(key) and not continue_study:
            raise DeepFMError(f"study {name!r} holds trials of {key} {saved.get(key)!r}, not "
                              f"{identity.get(key)!r}; pass --continue-study to add to it anyway, "
                              "or --study NAME for a new study")
    return study


def progress(study):
    """(finished, running, waiting) trial counts: finished = complete + pruned."""
    states = [t.state for t in study.get_trials(deepcopy=False)]
    return (sum(s in FINISHED for s in states), states.count(TrialState.RUNNING),
            states.count(TrialState.WAITING))


def worker_tag(trial_number):
    return {"host": socket.gethostname(), "pid": os.getpid(), "trial": trial_number}


def claim(trial, budget):
    """Mark ``trial`` (just started) as this process's; False when it is
    surplus: ``budget`` trials that finished or run were started before it."""
    trial.set_user_attr(WORKER_ATTR, worker_tag(trial.number))
    ahead = [t for t in trial.study.get_trials(deepcopy=False, states=FINISHED + (TrialState.RUNNING,))
             if t.number < trial.number]
    return len(ahead) < budget


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_dead_local_trials(study):
    """Fail the running trials whose process on this host is gone and queue
    their parameters again (as a stale heartbeat would, without the wait).
    Returns the numbers of the trials failed here."""
    storage, host = study._storage, socket.gethostname()
    callback = storage.get_heartbeat_stale_trial_callback()
    reaped = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        tag = trial.user_attrs.get(WORKER_ATTR) or {}
        if tag.get("host") != host or tag.get("trial") != trial.number or _process_alive(tag.get("pid", -1)):
            continue
        try:
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:  # another process reaped it first
            continue
        reaped.append(trial.number)
        if callback is not None:
            callback(study, storage.get_trial(trial._trial_id))
    return reaped


def fail_stale_trials(study):
    """Reap dead local trials, then the heartbeat-stale ones of any machine."""
    reaped = reap_dead_local_trials(study)
    optuna.storages.fail_stale_trials(study)
    return reaped
