"""Training settings as plain dataclasses, checked in one place.

``TrainConfig`` says how to train (the book's values are the defaults);
``RunSpec`` says what one run is (model, data, kvstore, checkpoints...) and
its ``validate()`` is the one place that rejects impossible combinations.
No MXNet import here: the CLI builds and checks a spec before MXNet loads.
"""
import dataclasses
from typing import Any, Optional

from ..errors import DeepFMError

KVSTORES = ("device", "local", "dist_sync", "dist_async")


def is_dist_kvstore(kvstore):
    """True for a parameter-server kvstore: the names 'dist_sync'/'dist_async'
    (any 'dist*') or a KVStore object of such a type; False for None,
    'device', 'local' and their objects. The one test of "is this distributed"."""
    kind = kvstore if kvstore is None or isinstance(kvstore, str) else getattr(kvstore, "type", None)
    return isinstance(kind, str) and kind.startswith("dist")


@dataclasses.dataclass
class TrainConfig:
    """How to train. ``lr=None`` takes the book's rate for the model kind
    (DeepFM 0.01, FM 0.02).

    ``book_compat=True`` reproduces the book exactly: the loss gets the
    Block's sigmoid output (a double sigmoid) and the reports use d2l's
    accuracy. The default trains on logits and reports real metrics.

    ``sparse=True`` updates the embedding tables row-sparse with lazy
    optimizer steps (training/sparse.py): a step's cost no longer grows with
    the vocabulary. Equal to dense training for SGD; lazy Adam differs.
    ``sparse=None``: chosen by the table's size (more than ``AUTO_SPARSE_ROWS``
    rows: sparse), in ``experiments.runner.resolve_updates``; the CLI's default.
    """

    epochs: int = 30
    batch_size: int = 2048
    lr: Optional[float] = None
    optimizer: str = "adam"
    seed: int = 0
    book_compat: bool = False
    hybridize: bool = True
    devices: Optional[str] = None
    eval_batch_size: int = 8192
    progress: bool = True
    sparse: Optional[bool] = False

    def to_dict(self):
        return dataclasses.asdict(self)


def device_count(devices):
    """How many contexts a ``--devices`` spec names (see training.contexts)."""
    if devices in (None, "", "auto", "gpu"):
        import mxnet as mx  # only these specs need MXNet; imported here to keep start-up fast
        return mx.context.num_gpus() or 1
    if devices.startswith("cpu:"):
        try:
            return int(devices.split(":", 1)[1])
        except ValueError:
            raise DeepFMError(f"--devices {devices!r}: expected cpu:N with an integer N") from None
    return len([item for item in devices.split(",") if item.strip()])


AUTO_SPARSE_ROWS = 1_000_000  # an embedding table with more rows gets sparse updates by default


@dataclasses.dataclass
class RunSpec:
    """One training run: what `train` and ``train_model`` carry out.

    ``model``: 'fm' or 'deepfm'; ``config``: how to train; ``data``: a data
    source for ``data.sources.load_split`` ('synthetic', 'ctr', a directory,
    'criteo:PATH'); ``hash_buckets``: Criteo hashing instead of a vocabulary;
    ``model_overrides``: keyword arguments for the model (num_factors,
    mlp_dims...); ``kvstore``: 'device', 'local', 'dist_sync', 'dist_async'
    or a KVStore object; ``checkpoint_dir``: write a checkpoint there after
    every epoch (None: none); ``resume``: continue from its latest one;
    ``out_dir``: where the model directory goes (None: not saved).
    """

    model: str = "deepfm"
    config: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    data: str = "synthetic"
    hash_buckets: Optional[int] = None
    model_overrides: dict = dataclasses.field(default_factory=dict)
    kvstore: Any = "device"
    checkpoint_dir: Optional[str] = None
    resume: bool = False
    out_dir: Optional[str] = None

    @property
    def distributed(self):
        return is_dist_kvstore(self.kvstore)

    def validate(self):
        """Raise one DeepFMError naming the first impossible combination; returns self."""
        problem = self.problem()
        if problem:
            raise DeepFMError(problem)
        return self

    def problem(self):
        """The first impossible combination, as one sentence; None if there is none."""
        config = self.config
        if isinstance(self.kvstore, str) and self.kvstore not in KVSTORES:
            return f"--kvstore {self.kvstore}: expected one of {', '.join(KVSTORES)}"
        if self.model_overrides.get("mlp_dims") is not None and self.model != "deepfm":
            return "--mlp-dims applies to --model deepfm only"
        if self.hash_buckets is not None and not str(self.data).startswith("criteo:"):
            return "--hash-buckets applies to --data criteo:PATH only"
        if self.resume and self.checkpoint_dir is None:
            return "resume needs a checkpoint directory (--resume and --no-checkpoints exclude each other)"
        if self.distributed and (self.resume or config.sparse):
            return "distributed training supports neither --resume nor --sparse yet"
        if self.distributed and self.checkpoint_dir is not None:
            return "distributed training writes no checkpoints yet; use --no-checkpoints"
        if config.sparse:
            if self.resume:
                return "--sparse runs write no checkpoints to resume from"
            if self.checkpoint_dir is not None:
                return ("checkpoints do not cover --sparse training yet (its embedding optimizer "
                        "states live outside the Trainer); use --no-checkpoints")
            if config.book_compat:
                return "sparse updates do not combine with --book-compat"
            if device_count(config.devices) != 1:
                return "sparse updates run on one device; pass --devices cpu or gpu(0)"
        return None
