"""Training settings as plain dataclasses, checked in one place.

``TrainConfig`` says how to train (the book's values are the defaults);
``RunSpec`` says what one run is (model, data, kvstore, checkpoints...) and
its ``validate()`` is the one place that rejects impossible combinations.
No MXNet import here: the CLI builds and checks a spec before MXNet loads.
"""
import dataclasses
from typing import Any, Optional

from ..errors import DeepFMError
from ..limits import MAX_CPU_CONTEXTS, MAX_SEED, is_int

KVSTORES = ("device", "local", "dist_sync", "dist_async")


def is_dist_kvstore(kvstore):
    """True for a parameter-server kvstore: the names 'dist_sync'/'dist_async'
    (any 'dist*') or a KVStore object of such a type; False for None,
    'device', 'local' and their objects. The one test of "is this distributed"."""
    kind = kvstore if kvstore is None or isinstance(kvstore, str) else getattr(kvstore, "type", None)
    return isinstance(kind, str) and kind.startswith("dist")


@dataclasses.dataclass
class TrainConfig:
    """How to train. ``lr=None`` takes the model's rate (``ModelSpec.lr``: the
    book's DeepFM 0.01, FM 0.02).

    ``book_compat=True`` reproduces the book exactly: the loss gets the
    Block's sigmoid output (a double sigmoid) and the reports use d2l's
    accuracy. The default trains on logits and reports real metrics.

    ``sparse=True`` updates the embedding tables row-sparse with lazy
    optimizer steps (training/sparse.py): a step's cost no longer grows with
    the vocabulary. Equal to dense training for SGD; lazy Adam differs.

    ``early_stop=P`` stops after P epochs without a better validation
    ``monitor`` ('auc' or 'logloss') and restores the best epoch's weights
    (training/early_stopping.py); it needs a validation split.
    ``embedding_l2``: L2 penalty (lambda/2)*||row||^2 on the embedding rows
    (both tables) that a batch touches (training/regularization.py).
    ``fused_adam``: Adam's dense updates as one ``adam_update`` per step
    over flat buffers (training/flat_adam.py), bit for bit Gluon's
    per-parameter Adam; where it does not apply (several devices, a kvstore,
    other optimizers) Gluon's own step runs. False: always Gluon's (A/B).
    ``dense_l2``: L2 penalty (lambda/2)*||w||^2 on every other parameter
    (MLP, linear layer, biases): the optimizer's weight decay
    (training/regularization.py, FuxiCTR's net_regularizer).
    ``min_steps_per_epoch``: if > 0, a batch that leaves fewer optimizer steps
    per epoch on the training lines is made smaller (a power of two) so that
    an epoch has at least that many (``experiments.runner.fit_batch_to_data``,
    said in one line); set when the batch is a preset's, never when typed.
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
    early_stop: Optional[int] = None
    monitor: str = "auc"
    embedding_l2: float = 0.0
    dense_l2: float = 0.0
    fused_adam: bool = True
    min_steps_per_epoch: int = 0

    def to_dict(self):
        return dataclasses.asdict(self)


# The validation metrics early stopping may watch, and which way is better: the one
# list (early_stopping, --monitor, config files and RunSpec read it).
MONITORS = {"auc": "max", "logloss": "min"}


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named set of hyperparameters; every value can be overridden by its flag.
    None means "the book's value for the model kind" (num_factors, lr)."""

    name: str
    epochs: int
    batch_size: int
    lr: Optional[float]
    num_factors: Optional[int]
    mlp_dims: Optional[tuple]
    drop_rate: Optional[float]
    embedding_l2: float
    early_stop: Optional[int]
    monitor: str = "auc"
    min_steps: int = 0  # the preset's batch is capped so an epoch has this many steps (0: kept)


PRESETS = {
    # the d2l chapter: 30 epochs, batch 2048, Adam at FM 0.02 / DeepFM 0.01, no validation
    "book": Preset("book", epochs=30, batch_size=2048, lr=None, num_factors=None, mlp_dims=None,
                   drop_rate=None, embedding_l2=0.0, early_stop=None),
    # BARS Criteo_x1 DeepFM/FM (FuxiCTR configs): at most 100 epochs, stopped on validation AUC.
    # Its batch of 4096 was set for 45M lines: on a small file it would leave one or two steps
    # an epoch, and patience 2 would stop before anything is learnt, so it is capped to keep
    # at least 20 steps an epoch (a typed --batch-size is kept).
    "bars": Preset("bars", epochs=100, batch_size=4096, lr=1e-3, num_factors=10,
                   mlp_dims=(400, 400, 400), drop_rate=0.1, embedding_l2=1e-5, early_stop=2,
                   min_steps=20),
}


def stopping_problem(monitor, early_stop, embedding_l2, dense_l2=0.0):
    """The first impossible early-stopping or L2 value, as one sentence; None if none."""
    if monitor not in MONITORS:
        return f"--monitor {monitor}: expected one of {', '.join(MONITORS)}"
    if early_stop is not None and early_stop < 1:
        return f"--early-stop {early_stop}: expected a positive number of epochs"
    if embedding_l2 < 0:
        return f"--embedding-l2 {embedding_l2}: expected a number >= 0"
    if dense_l2 < 0:
        return f"--dense-l2 {dense_l2}: expected a number >= 0"
    return None


def preset_problem(preset):
    """The first impossible value of a Preset, as one sentence; None if none."""
    problem = stopping_problem(preset.monitor, preset.early_stop, preset.embedding_l2)
    if problem:
        return problem
    if preset.drop_rate is not None and not 0 <= preset.drop_rate < 1:
        return f"--dropout {preset.drop_rate}: expected a number in [0, 1)"
    if preset.epochs < 1 or preset.batch_size < 1:
        return "epochs and batch size must be positive"
    return None


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

    ``model``: a registered model name (models/registry.py); ``config``: how to train; ``data``: a data
    source for ``data.sources.load_split`` ('synthetic', 'ctr', a directory,
    'criteo:PATH', 'avazu:PATH', 'csv:PATH'); ``hash_buckets``: hashing instead
    of a vocabulary (table sources);
    ``model_overrides``: hyperparameters of the model (its ModelSpec's
    names, checked by ``config_problem``); ``kvstore``: 'device', 'local', 'dist_sync', 'dist_async'
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
    preset: Optional[Preset] = None

    def data_source(self):
        """The SourceSpec of ``data`` (data/sources/registry.py)."""
        from ..data.sources.registry import resolve  # start-up: the registry imports each source file
        return resolve(self.data)[0]

    @property
    def distributed(self):
        return is_dist_kvstore(self.kvstore)

    def validate(self):
        """Raise one DeepFMError naming the first impossible combination; returns self."""
        problem = self.problem()
        if problem:
            raise DeepFMError(problem)
        return self

    def size_problem(self):
        """Flag values out of range, refused before any data or array exists."""
        config = self.config
        if not is_int(config.seed) or not 0 <= config.seed <= MAX_SEED:
            return f"--seed {config.seed}: expected an integer 0..{MAX_SEED}"
        problem = self.model_problem()
        if problem:
            return problem
        devices = config.devices or ""
        if devices.startswith("cpu:"):
            count = devices.split(":", 1)[1]
            if not count.isdigit() or not 1 <= int(count) <= MAX_CPU_CONTEXTS:
                return f"--devices {devices}: expected cpu:N with N in 1..{MAX_CPU_CONTEXTS}"
        return None

    def model_problem(self):
        """An unknown model, or a hyperparameter it does not declare or out of
        its range (``ModelSpec.config_problem``), named in one sentence."""
        from ..models.registry import UnknownModel, get_spec  # start-up: model modules load MXNet
        try:
            spec = get_spec(self.model)
        except UnknownModel as err:
            return str(err)
        return spec.config_problem({k: v for k, v in self.model_overrides.items() if v is not None})

    def problem(self):
        """The first impossible combination, as one sentence; None if there is none."""
        config = self.config
        problem = self.size_problem()
        if problem:
            return problem
        if self.preset is not None and preset_problem(self.preset):
            return f"--preset {self.preset.name}: {preset_problem(self.preset)}"
        problem = stopping_problem(config.monitor, config.early_stop, config.embedding_l2, config.dense_l2)
        if problem:
            return problem
        if (config.embedding_l2 or config.dense_l2) and config.book_compat:
            flag = "--embedding-l2" if config.embedding_l2 else "--dense-l2"
            return f"{flag} does not combine with --book-compat (the book has no regularisation)"
        if config.dense_l2 and self.distributed:
            return "--dense-l2 is not supported by distributed training yet"
        if self.kvstore == "dist_async" and config.early_stop is not None:
            return "early stopping in distributed training needs --kvstore dist_sync (workers share rank 0's decision)"
        if isinstance(self.kvstore, str) and self.kvstore not in KVSTORES:
            return f"--kvstore {self.kvstore}: expected one of {', '.join(KVSTORES)}"
        if self.hash_buckets is not None and not self.data_source().supports_hashing:
            from ..data.sources import table_usages  # start-up: with data_source above
            return f"--hash-buckets applies to --data {', '.join(table_usages())} only"
        if self.resume and self.checkpoint_dir is None:
            return "resume needs a checkpoint directory (--resume and --no-checkpoints exclude each other)"
        if self.kvstore == "dist_async" and self.checkpoint_dir:
            return "checkpoints of distributed jobs need --kvstore dist_sync; use --no-checkpoints"
        if self.distributed and config.sparse and device_count(config.devices) != 1:
            return "distributed --sparse runs one device per worker; pass --devices cpu or gpu(0)"
        if config.sparse:
            if config.book_compat:
                return "sparse updates do not combine with --book-compat"
        return None


# Flags a resumed run may change: everything else would make it another run.
RESUME_CHANGEABLE = ("epochs", "data_dir", "strict")


def resume_problem(saved, given, done_epochs=None):
    """``saved``: the run_args of the checkpointed run; ``given``: the flags
    typed beside --resume (name -> value, only those the user set). The first
    one that would change the run, as one sentence; None if none does."""
    for name, value in given.items():
        if name in RESUME_CHANGEABLE or name not in saved or saved[name] == value:
            continue
        flag = "--" + name.replace("_", "-")
        started = "not set" if saved[name] is None else f"{flag} {saved[name]}"
        return (f"{flag} {value}: --resume continues the run as it started ({started}); "
                "only --epochs may change (to extend it)")
    epochs = given.get("epochs")
    if epochs is not None and done_epochs is not None and epochs < done_epochs:
        return f"--epochs {epochs}: the run already finished {done_epochs} epochs"
    return None
