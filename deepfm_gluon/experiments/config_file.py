"""A run configuration as a file: the model, its hyperparameters and the
training settings, what `tune` writes (best.json) and `train --config`,
`compare --config` read.

The file is one flat JSON object::

    {"model": "fm", "num_factors": 16, "lr": 0.0012, "batch_size": 512,
     "embedding_l2": 1e-05, "dense_l2": 0.0, "epochs": 100, "early_stop": 2,
     "tuning": {... where it came from: ignored when read ...}}

Keys: ``model`` (required), the model's hyperparameters (its ModelSpec), and
CONFIG_TRAINING_KEYS; anything else is refused by name, with its line.
"""
import dataclasses
import json
import math
import os

from ..atomic import atomic_write_text
from ..errors import DeepFMError
from ..models.registry import UnknownModel, get_spec
from ..training.config import MONITORS

PROVENANCE_KEY = "tuning"
OPTIMIZERS = ("adam", "sgd", "adagrad", "ftrl")  # cli/parser.py's --optimizer choices


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _number(value, low, low_open=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return ok and (value > low if low_open else value >= low)


# key -> (check, what is expected): TrainConfig fields a configuration may set
CONFIG_TRAINING_KEYS = {
    "lr": (lambda v: _number(v, 0, low_open=True), "a number > 0"),
    "batch_size": (_positive_int, "a positive integer"),
    "embedding_l2": (lambda v: _number(v, 0), "a number >= 0"),
    "dense_l2": (lambda v: _number(v, 0), "a number >= 0"),
    "epochs": (_positive_int, "a positive integer"),
    "early_stop": (lambda v: v is None or _positive_int(v), "a positive integer or null"),
    "monitor": (lambda v: v in MONITORS, " or ".join(MONITORS)),
    "optimizer": (lambda v: v in OPTIMIZERS, ", ".join(OPTIMIZERS)),
}


@dataclasses.dataclass
class RunConfig:
    """``model``: a registered model name; ``hyperparameters``: its constructor
    arguments (name -> value, checked by its ModelSpec); ``training``:
    CONFIG_TRAINING_KEYS -> value; ``tuning``: provenance (study, trial,
    validation metric), written for people and ignored when read."""

    model: str
    hyperparameters: dict = dataclasses.field(default_factory=dict)
    training: dict = dataclasses.field(default_factory=dict)
    tuning: dict = dataclasses.field(default_factory=dict)

    def to_dict(self):
        flat = {"model": self.model, **self.hyperparameters, **self.training}
        if self.tuning:
            flat[PROVENANCE_KEY] = self.tuning
        return flat


def _line_of(text, key):
    """1-based line where ``"key"`` first appears in ``text`` (None if not found)."""
    at = text.find(json.dumps(key))
    return None if at < 0 else text.count("\n", 0, at) + 1


def config_from_dict(values, where="config"):
    """A RunConfig from the flat mapping ``values``; raises one DeepFMError
    naming ``where`` and the first unknown key or bad value."""
    if not isinstance(values, dict):
        raise DeepFMError(f"{where}: expected a JSON object with a \"model\" key")
    if "model" not in values:
        raise DeepFMError(f"{where}: no \"model\" key (e.g. \"model\": \"fm\")")
    try:
        spec = get_spec(values["model"])
    except UnknownModel as err:
        raise DeepFMError(f"{where}: {err}") from None
    config = RunConfig(model=spec.name)
    for key, value in values.items():
        if key in ("model", PROVENANCE_KEY):
            continue
        if key in CONFIG_TRAINING_KEYS:
            check, expected = CONFIG_TRAINING_KEYS[key]
            if not check(value):
                raise DeepFMError(f"{where}: {key}: expected {expected}, got {value!r}")
            config.training[key] = value
        elif spec.hyperparameter(key) is not None:
            problem = spec.config_problem({key: value})
            if problem:
                raise DeepFMError(f"{where}: {problem}")
            config.hyperparameters[key] = value
        else:
            known = ", ".join(["model", *CONFIG_TRAINING_KEYS, *(h.name for h in spec.hyperparameters)])
            raise DeepFMError(f"{where}: unknown key {key!r} for model {spec.name}; expected one of {known}")
    tuning = values.get(PROVENANCE_KEY) or {}
    config.tuning = tuning if isinstance(tuning, dict) else {}
    return config


def read_config(path):
    """The RunConfig in the JSON file ``path``; every problem is one
    DeepFMError naming the file (and the line, where there is one)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise DeepFMError(f"--config {path}: {err.strerror or err}") from None
    try:
        values = json.loads(text)
    except json.JSONDecodeError as err:
        raise DeepFMError(f"{path} line {err.lineno}: not valid JSON ({err.msg})") from None
    try:
        return config_from_dict(values, where=path)
    except DeepFMError as err:
        key = next((k for k in (values if isinstance(values, dict) else ()) if f"{k!r}" in str(err)), None)
        line = _line_of(text, key) if key else None
        if line is None:
            raise
        raise DeepFMError(str(err).replace(f"{path}: ", f"{path} line {line}: ", 1)) from None


def write_config(path, config):
    """Write ``config`` (a RunConfig) as indented JSON, atomically."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_text(path, json.dumps(config.to_dict(), indent=1, sort_keys=False) + "\n")
