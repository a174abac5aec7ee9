"""A model's search space (its ModelSpec's ``search_space``) as Optuna
suggestions, and what a sampled point means as a configuration.

Entries (models/spec.py): FloatRange -> ``suggest_float`` (log scale when
asked), IntRange -> ``suggest_int``, Choice -> ``suggest_categorical``,
LayerSizes -> two categorical suggestions, ``NAME.depth`` and ``NAME.width``,
giving ``[width] * depth``. Names in TRAINING_KEYS are TrainConfig fields;
the others are the model's hyperparameters. No Optuna import here: a trial
is anything with Optuna's ``suggest_*`` methods.
"""
import json

from ..errors import DeepFMError
from .config_file import config_from_dict
from ..models.spec import TRAINING_KEYS, Choice, FloatRange, IntRange, LayerSizes

MIN_STEPS_PER_EPOCH = 20  # batch sizes leaving fewer steps per epoch are left out (cf. the bars preset)


def suggest(trial, space):
    """Sample every entry of ``space`` (name -> entry, or a fixed value) on
    ``trial``; returns (model hyperparameters, training settings) as dicts."""
    model, training = {}, {}
    for name, entry in space.items():
        if isinstance(entry, FloatRange):
            value = trial.suggest_float(name, entry.low, entry.high, log=entry.log)
        elif isinstance(entry, IntRange):
            value = trial.suggest_int(name, entry.low, entry.high, step=entry.step)
        elif isinstance(entry, Choice):
            value = trial.suggest_categorical(name, list(entry.options))
        elif isinstance(entry, LayerSizes):
            depth = trial.suggest_categorical(f"{name}.depth", list(entry.depths))
            value = [trial.suggest_categorical(f"{name}.width", list(entry.widths))] * depth
        else:
            value = entry  # a fixed value (a --space override)
        (training if name in TRAINING_KEYS else model)[name] = value
    return model, training


def values_from_params(space, params):
    """(model hyperparameters, training settings) of a finished trial's
    ``params`` (Optuna's flat name -> value), as ``suggest`` returned them."""
    class Replay:
        def suggest_float(self, name, *_, **__):
            return params[name]
        suggest_int = suggest_categorical = suggest_float
    return suggest(Replay(), space)


def fit_batch_choices(space, lines):
    """``space`` without the batch sizes that leave fewer than
    MIN_STEPS_PER_EPOCH steps per epoch on ``lines`` training lines (the
    smallest is kept if none does); other entries unchanged."""
    entry = space.get("batch_size")
    if not isinstance(entry, Choice):
        return dict(space)
    fitting = tuple(b for b in entry.options if lines // b >= MIN_STEPS_PER_EPOCH) or (min(entry.options),)
    return {**space, "batch_size": Choice(fitting)}


def entry_from_json(name, value, where):
    """A search-space entry from its JSON form: {"low", "high", "log"} (float),
    {"low", "high", "step"} with integers (int), {"choices": [...]},
    {"widths": [...], "depths": [...]}, or a plain value (fixed)."""
    if not isinstance(value, dict):
        return value
    keys = set(value)
    try:
        if keys == {"choices"}:
            return Choice(tuple(value["choices"]))
        if keys == {"widths", "depths"}:
            return LayerSizes(tuple(value["widths"]), tuple(value["depths"]))
        if keys <= {"low", "high", "log", "step"} and {"low", "high"} <= keys:
            low, high = value["low"], value["high"]
            if not low <= high:
                raise ValueError
            if "step" in keys or (isinstance(low, int) and isinstance(high, int) and "log" not in keys):
                return IntRange(int(low), int(high), int(value.get("step", 1)))
            return FloatRange(float(low), float(high), bool(value.get("log", False)))
    except (TypeError, ValueError):
        pass
    raise DeepFMError(f"{where}: {name}: expected {{\"low\", \"high\"[, \"log\"|\"step\"]}}, "
                      f"{{\"choices\": [...]}}, {{\"widths\": [...], \"depths\": [...]}} or a fixed value, "
                      f"got {json.dumps(value)}")


def space_with_overrides(spec, overrides, where="--space"):
    """``spec.search_space`` with ``overrides`` (name -> JSON form, e.g. read
    from a --space file) replacing or adding entries; a name that is neither
    one of the model's hyperparameters nor a TRAINING_KEYS entry is refused."""
    space = dict(spec.search_space)
    known = [*TRAINING_KEYS, *(h.name for h in spec.hyperparameters)]
    for name, value in overrides.items():
        if name not in known:
            raise DeepFMError(f"{where}: unknown parameter {name!r} for model {spec.name}; "
                              f"expected one of {', '.join(known)}")
        space[name] = entry_from_json(name, value, where)
        if not isinstance(value, dict):  # a fixed value: checked as a config file's would be
            config_from_dict({"model": spec.name, name: value}, where)
    return space


def read_space_file(spec, path):
    """The search space of ``spec`` with the overrides in the JSON file ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            overrides = json.load(f)
    except OSError as err:
        raise DeepFMError(f"--space {path}: {err.strerror or err}") from None
    except json.JSONDecodeError as err:
        raise DeepFMError(f"{path} line {err.lineno}: not valid JSON ({err.msg})") from None
    if not isinstance(overrides, dict):
        raise DeepFMError(f"{path}: expected a JSON object: parameter name -> range, choices or value")
    return space_with_overrides(spec, overrides, where=path)


def describe_space(space):
    """A JSON-ready description of ``space`` (stored with the study)."""
    def entry(value):
        if isinstance(value, (FloatRange, IntRange, Choice, LayerSizes)):
            return {"type": type(value).__name__, **{k: list(v) if isinstance(v, tuple) else v
                                                     for k, v in vars(value).items()}}
        return value
    return {name: entry(value) for name, value in sorted(space.items())}
