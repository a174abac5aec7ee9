"""What several commands do with their parsed flags: configs, data, checks."""
import dataclasses
import os

from ..data.sources import DataOptions, load_split, resolve, with_validation
from ..errors import DeepFMError
from ..training.config import PRESETS, TrainConfig, preset_problem

PRESET_NOTE = ("note: {source}: data defaults to --preset {preset} (BARS Criteo_x1 settings, early "
               "stopping on validation AUC); pass --preset book for the chapter's settings")
# Every setting a training run is made of, written once: its argparse attribute ->
# the Preset field it overrides (None: no preset sets it). `train` saves them all
# with its checkpoints and `train --resume` restores them (RESUMED_ARGS);
# resolve_preset lays the typed ones over the preset (PRESET_FLAGS).
RUN_SETTINGS = {
    # the model
    "model": None, "num_factors": "num_factors", "mlp_dims": "mlp_dims", "dropout": "drop_rate",
    "model_arg": None, "model_args": None,
    # the data
    "data": None, "data_dir": None, "strict": None, "hash_buckets": None, "label": None,
    "categorical": None, "numeric": None, "sep": None, "header": None, "validation": None,
    "split": None, "split_seed": None,
    # how to train
    "preset": None, "preset_batch": None, "epochs": "epochs", "batch_size": "batch_size", "lr": "lr",
    "optimizer": None, "embedding_l2": "embedding_l2", "dense_l2": None, "early_stop": "early_stop",
    "monitor": "monitor", "seed": None, "devices": None, "book_compat": None, "sparse": None,
    "kvstore": None, "out": None,
}
PRESET_FLAGS = {flag: field for flag, field in RUN_SETTINGS.items() if field}
RESUMED_ARGS = tuple(RUN_SETTINGS)


def parse_mlp_dims(text):
    if text is None or isinstance(text, (list, tuple)):
        return text
    try:
        return tuple(int(d) for d in text.split(",") if d.strip())
    except ValueError:
        raise DeepFMError(f"--mlp-dims {text!r}: expected integers like 30,20,10") from None


def resolve_preset(args, note=print):
    """The Preset the flags describe: --preset (default: the data source's
    ``default_preset``, said in one ``note`` line when it is not the book's)
    with every flag given on top; checked by ``preset_problem``. Fills the
    flags left at None in ``args``."""
    if getattr(args, "resolved_preset", None) is not None:
        return args.resolved_preset
    name = getattr(args, "preset", None)
    if name is None:
        source = resolve(getattr(args, "data", "synthetic"))[0]
        name = source.default_preset
        if name != "book":
            note(PRESET_NOTE.format(source=source.name, preset=name))
    given = {field: getattr(args, flag, None) for flag, field in PRESET_FLAGS.items()}
    given["mlp_dims"] = parse_mlp_dims(given["mlp_dims"])
    if getattr(args, "preset_batch", None) is None:  # a resumed run keeps its saved answer
        args.preset_batch = given["batch_size"] is None  # a preset's batch may be fitted to the data
    preset = dataclasses.replace(PRESETS[name], **{k: v for k, v in given.items() if v is not None})
    problem = preset_problem(preset)
    if problem:
        raise DeepFMError(f"--preset {name}: {problem}")
    for flag, field in PRESET_FLAGS.items():
        setattr(args, flag, getattr(preset, field))
    args.preset, args.resolved_preset = name, preset
    return preset


def preset_model_overrides(preset, kind):
    """Model keyword arguments of ``preset`` for ``kind``: only the
    hyperparameters the model declares (a preset's MLP does not reach FM);
    None values (the model's own defaults) left out."""
    spec = model_spec(kind)
    values = {"num_factors": preset.num_factors, "drop_rate": preset.drop_rate,
              "mlp_dims": list(preset.mlp_dims) if preset.mlp_dims is not None else None}
    return {name: value for name, value in values.items()
            if value is not None and spec.hyperparameter(name) is not None}


def model_spec(kind):
    """The registered ModelSpec of ``kind``; an unknown name is one line listing the known ones."""
    from ..models.registry import get_spec  # start-up: model modules load MXNet; only once a command runs
    return get_spec(kind)


def hyperparameter_attribute(spec, name):
    """The ``args`` attribute of the flag that sets hyperparameter ``name``
    (None: it has no flag of its own; ``--model-arg`` sets it)."""
    flag = spec.hyperparameter(name).flag
    return flag[2:].replace("-", "_") if flag else None


def shown(value):
    """A hyperparameter value as typed: 30,20,10 for a list."""
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def parse_model_args(spec, texts):
    """``--model-arg NAME=VALUE`` strings -> {name: value}, each parsed by the
    model's Hyperparameter; an unknown name or bad value is one line naming it."""
    values = {}
    for text in texts or ():
        name, eq, value = str(text).partition("=")
        name = name.strip()
        if not eq or not name:
            raise DeepFMError(f"--model-arg {text!r}: expected NAME=VALUE")
        hyperparameter = spec.hyperparameter(name)
        if hyperparameter is None:
            raise DeepFMError(f"--model-arg {text}: {spec.config_problem({name: None})}")
        try:
            values[name] = hyperparameter.parse(value)
        except ValueError as err:
            raise DeepFMError(f"--model-arg {text}: model {spec.name}: {err}") from None
    return values


def model_overrides(args, kind, typed_flags=()):
    """Model keyword arguments for ``kind``: the preset's (only what the model
    declares), the dedicated flags a hyperparameter names (Hyperparameter.flag:
    --num-factors, --mlp-dims, --dropout) on top, then a ``--config`` file's
    hyperparameters without a flag (``args.model_args``), then
    ``--model-arg NAME=VALUE``.
    ``typed_flags``: dedicated flags the user typed (their args attribute
    names): one the model has no hyperparameter for is refused, naming the
    model's hyperparameters. Every value is range-checked, naming its flag."""
    spec = model_spec(kind)
    preset = resolve_preset(args)
    overrides = preset_model_overrides(preset, kind)
    declared = {hyperparameter_attribute(spec, h.name): h for h in spec.hyperparameters if h.flag}
    for dest in typed_flags:
        if dest not in declared:
            known = ", ".join(h.name + (f" ({h.flag})" if h.flag else "") for h in spec.hyperparameters)
            raise DeepFMError(f"--{dest.replace('_', '-')}: model {kind} has no hyperparameter set by it; "
                              f"its hyperparameters: {known or 'none'} (deepfm-gluon models)")
    source = {}  # name -> the flag text that set it
    for dest, h in declared.items():
        value = getattr(args, dest, None)
        if value is not None:
            try:
                overrides[h.name] = h.parse(value) if isinstance(value, str) else (
                    list(value) if isinstance(value, (list, tuple)) else value)
            except ValueError as err:
                raise DeepFMError(f"{h.flag} {value!r}: {err}") from None
            source[h.name] = f"{h.flag} {shown(overrides[h.name])}"
    for name, value in (getattr(args, "model_args", None) or {}).items():  # --config values without a flag
        overrides[name], source[name] = value, f"--config {getattr(args, 'config', None)}: {name} {shown(value)}"
    for name, value in parse_model_args(spec, getattr(args, "model_arg", None)).items():
        overrides[name], source[name] = value, f"--model-arg {name}={shown(value)}"
    for name, value in overrides.items():
        if spec.hyperparameter(name) is None:
            raise DeepFMError(f"{source.get(name, '--config')}: {spec.config_problem({name: value})}")
        problem = spec.hyperparameter(name).problem(value)
        if problem:
            raise DeepFMError(f"{source.get(name, f'--preset {preset.name}')}: model {kind}: {problem}")
    return overrides


def train_config(args):
    """The TrainConfig that the shared training flags (after the preset) describe."""
    preset = resolve_preset(args)
    return TrainConfig(epochs=preset.epochs, batch_size=preset.batch_size, lr=preset.lr, seed=args.seed,
                       book_compat=args.book_compat, devices=args.devices,
                       progress=not args.no_progress and os.isatty(2),
                       sparse=getattr(args, "sparse", False),  # None: by table size (runner)
                       early_stop=preset.early_stop,
                       optimizer=getattr(args, "optimizer", None) or "adam",
                       monitor=preset.monitor, embedding_l2=preset.embedding_l2,
                       dense_l2=getattr(args, "dense_l2", None) or 0.0,
                       min_steps_per_epoch=preset.min_steps if getattr(args, "preset_batch", False) else 0)


def wants_validation(args):
    """A validation split is cut for --early-stop (flag or preset), --validation, --split random
    or --calibrate (fitted on it)."""
    return (getattr(args, "early_stop", None) is not None or getattr(args, "validation", None) is not None
            or getattr(args, "split", "time") == "random" or bool(getattr(args, "calibrate", None)))


def add_validation(split, args):
    """``split`` with the validation part the flags ask for (data/validation.py)."""
    share = getattr(args, "validation", None) or 0.1
    seed = args.split_seed if getattr(args, "split", "time") == "random" else args.seed
    return with_validation(split, share, getattr(args, "split", "time"), seed)


def split_list(text):
    """Column names of a comma-separated flag value (None: none)."""
    return tuple(c.strip() for c in text.split(",") if c.strip()) if text else ()


def data_options(args):
    """DataOptions from the data flags (hashing, strictness, a CSV schema)."""
    return DataOptions(hash_buckets=getattr(args, "hash_buckets", None) or 0,
                       strict=getattr(args, "strict", False), label=getattr(args, "label", None),
                       categorical=split_list(getattr(args, "categorical", None)),
                       numeric=split_list(getattr(args, "numeric", None)), sep=getattr(args, "sep", None),
                       header=getattr(args, "header", None))


def load_data(args, validation=None):
    """Load the split the data flags name, with the validation part they ask
    for (``validation`` None: ``wants_validation``); print the final split once,
    and what was skipped."""
    split = load_split(args.data, data_dir=args.data_dir, options=data_options(args))
    if wants_validation(args) if validation is None else validation:
        split = add_validation(split, args)
    print(split.describe())
    for report in (split.train.skip_report, split.test.skip_report):
        if report.skipped:
            print("warning: " + report.summary())
    return split


def reject_lr(args):
    """Commands that train several models use each model's own rate
    (ModelSpec.lr; the book's for FM and DeepFM); a single --lr would
    silently apply to all of them."""
    if args.lr is not None:
        raise DeepFMError("--lr: this command trains each model with its book learning rate "
                          "(its own: FM 0.02, DeepFM 0.01, `deepfm-gluon models`); use `train --lr` for another rate")
