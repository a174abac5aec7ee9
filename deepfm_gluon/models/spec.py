"""What a model file declares about its model: the one contract every layer reads.

A model module under ``models/`` (or a plug-in module named in
``$DEEPFM_GLUON_MODELS``) defines a module-level ``MODEL = ModelSpec(...)``.
From that alone the CLI (``--model NAME``, ``deepfm-gluon models``),
validation, training (dense, ``--sparse``, parameter servers), checkpoints,
scoring, export and tuning find everything they need; no layer tests a model
by name.

No MXNet import here: specs are read before MXNet loads (flag checks).
"""
import dataclasses
import math
from typing import Any, Callable, Optional, Tuple


@dataclasses.dataclass(frozen=True)
class Hyperparameter:
    """One constructor argument of a model: its default and its valid range.

    ``kind``: 'int', 'float' or 'ints' (a list of ints, e.g. layer sizes);
    ``low``/``high``: inclusive bounds (for 'ints', of each entry; ``high``
    may be None for 'float' with an open top such as ``drop_rate < 1``, then
    ``below`` is the exclusive upper bound); ``max_len``: most entries of an
    'ints' list; ``flag``: the CLI flag that sets it (None: only
    ``--model-arg NAME=VALUE`` or a config file); ``help``: one line.
    """

    name: str
    default: Any
    kind: str = "int"
    low: Optional[float] = None
    high: Optional[float] = None
    below: Optional[float] = None
    max_len: int = 64
    min_len: int = 0
    flag: Optional[str] = None
    help: str = ""

    def problem(self, value):
        """Why ``value`` is not a valid setting, as 'name: ...' text; None if it is."""
        if self.kind == "ints":
            if not isinstance(value, (list, tuple)) or not self.min_len <= len(value) <= self.max_len:
                return (f"{self.name}: expected a list of {self.min_len}..{self.max_len} integers, "
                        f"got {value!r}")
            for item in value:
                problem = self._scalar_problem(item, "int")
                if problem:
                    return problem
            return None
        return self._scalar_problem(value, self.kind)

    def _scalar_problem(self, value, kind):
        integer = isinstance(value, int) and not isinstance(value, bool)
        number = integer or (isinstance(value, float) and math.isfinite(value))
        if kind == "int" and not integer:
            return f"{self.name}: expected an integer, got {value!r}"
        if kind == "float" and not number:
            return f"{self.name}: expected a number, got {value!r}"
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high) \
                or (self.below is not None and value >= self.below):
            return f"{self.name}: expected {self.range_text()}, got {value!r}"
        return None

    def to_dict(self):
        """JSON-able: what `deepfm-gluon models --json` lists."""
        return {"name": self.name, "default": self.default, "kind": self.kind, "range": self.range_text(),
                **({"length": f"{self.min_len}..{self.max_len}"} if self.kind == "ints" else {}),
                "flag": self.flag, "help": self.help}

    def range_text(self):
        low = "" if self.low is None else f"{self.low:g}"
        if self.below is not None:
            return f"a number in [{low or '-inf'}, {self.below:g})"
        return f"{low}..{'' if self.high is None else f'{self.high:g}'}"

    def parse(self, text):
        """The value a command-line string stands for (checked by ``problem`` later)."""
        try:
            if self.kind == "ints":
                return [int(part) for part in str(text).split(",") if part.strip()]
            return int(text) if self.kind == "int" else float(text)
        except ValueError:
            raise ValueError(f"{self.name}: expected {'integers like 30,20,10' if self.kind == 'ints' else self.kind}"
                             f", got {text!r}") from None


# Search-space entries (models declare them; the tuner turns them into Optuna suggestions).
@dataclasses.dataclass(frozen=True)
class FloatRange:
    """A float in [low, high], sampled on a log scale when ``log``."""
    low: float
    high: float
    log: bool = False


@dataclasses.dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    step: int = 1


@dataclasses.dataclass(frozen=True)
class Choice:
    options: tuple


@dataclasses.dataclass(frozen=True)
class LayerSizes:
    """A list of layer sizes: a depth from ``depths`` and one width from
    ``widths`` for every layer (FuxiCTR's tuner configs use equal widths)."""
    widths: tuple
    depths: tuple


# Training settings every model's search space may name beside its own
# hyperparameters (TrainConfig fields).
TRAINING_KEYS = ("lr", "batch_size", "embedding_l2", "dense_l2")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Everything the package needs to know about one model.

    ``name``: the ``--model`` name; ``block``: the HybridBlock class, built as
    ``block(field_dims, **hyperparameters)``; it has ``logit(F, x)`` (the
    score before the sigmoid, (B, 1)), outputs the probability, and its
    ``config()`` returns its constructor arguments, field_dims included.
    ``description``: one line, with the paper. ``hyperparameters``: the
    constructor arguments besides field_dims, with defaults (the book's for
    FM and DeepFM). ``lr``: the default learning rate. ``tables``: child
    names of the embedding tables indexed by the global feature ids x
    (sparse and parameter-server training update these row-sparse; every
    other child is dense). ``output_bias``: the dotted name of the bias that
    is the whole logit when every other parameter is zero (the base-rate
    predictor sets it). ``search_space``: name -> FloatRange / IntRange /
    Choice / LayerSizes, over the model's hyperparameters and TRAINING_KEYS.
    ``onnx``: ``onnx(net, graph) -> logit tensor name``, the model's
    inference graph built from ``models.onnx_layers`` blocks; None: the
    model cannot be exported to ONNX (export --format mxnet still works).
    ``fold``: ``fold(net) -> models.folded.FoldedNet`` (or None when the
    net's table is too large), the prediction engine with every per-feature
    term folded into one table; None: the model has none.
    ``interactions``: the child name of the table whose rows are the FM
    factors v_i (for explain's field x field heatmap); None if the model has
    no such pairwise factors.
    """

    name: str
    block: type
    description: str
    hyperparameters: Tuple[Hyperparameter, ...] = ()
    lr: float = 1e-3
    tables: Tuple[str, ...] = ("embedding",)
    output_bias: str = ""
    search_space: dict = dataclasses.field(default_factory=dict)
    onnx: Optional[Callable] = None
    fold: Optional[Callable] = None
    interactions: Optional[str] = None
    module: str = ""

    def defaults(self):
        """{name: default} of the hyperparameters (lists copied)."""
        return {h.name: (list(h.default) if isinstance(h.default, (list, tuple)) else h.default)
                for h in self.hyperparameters}

    def hyperparameter(self, name):
        for h in self.hyperparameters:
            if h.name == name:
                return h
        return None

    def config_problem(self, overrides):
        """The first unknown or out-of-range hyperparameter in ``overrides``
        (name -> value), as one sentence naming it; None if all are valid."""
        known = [h.name for h in self.hyperparameters]
        for name, value in overrides.items():
            h = self.hyperparameter(name)
            if h is None:
                return (f"model {self.name} has no hyperparameter {name!r}; its hyperparameters: "
                        f"{', '.join(known) or 'none'}")
            problem = h.problem(value)
            if problem:
                return f"model {self.name}: {problem}"
        return None

    def to_dict(self):
        """JSON-able summary (`deepfm-gluon models --json`)."""
        return {"name": self.name, "description": self.description, "module": self.module,
                "hyperparameters": [h.to_dict() for h in self.hyperparameters], "lr": self.lr,
                "tables": list(self.tables), "output_bias": self.output_bias, "onnx": self.onnx is not None,
                "search_space": {k: repr(v) for k, v in self.search_space.items()}}

    def build(self, field_dims, **overrides):
        """The block with the defaults updated by ``overrides`` (None values ignored)."""
        config = {**self.defaults(), **{k: v for k, v in overrides.items() if v is not None}}
        return self.block(field_dims, **config)
