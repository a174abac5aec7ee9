"""What several commands do with their parsed flags: configs, data, checks."""
import dataclasses
import os

from ..data.sources import DataOptions, load_split, resolve, with_validation
from ..errors import DeepFMError
from ..training.config import PRESETS, TrainConfig, preset_problem

PRESET_NOTE = ("note: {source}: data defaults to --preset {preset} (BARS Criteo_x1 settings, early "
               "stopping on validation AUC); pass --preset book for the chapter's settings")
# flag name -> Preset field
PRESET_FLAGS = {"epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "num_factors": "num_factors",
                "mlp_dims": "mlp_dims", "dropout": "drop_rate", "embedding_l2": "embedding_l2",
                "early_stop": "early_stop", "monitor": "monitor"}


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
    """Model keyword arguments of ``preset`` for ``kind`` (None: the book's)."""
    overrides = {"num_factors": preset.num_factors}
    if kind == "deepfm":
        overrides["mlp_dims"] = list(preset.mlp_dims) if preset.mlp_dims is not None else None
        overrides["drop_rate"] = preset.drop_rate
    return {k: v for k, v in overrides.items() if v is not None}


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
    """A validation split is cut for --early-stop (flag or preset), --validation or --split random."""
    return (getattr(args, "early_stop", None) is not None or getattr(args, "validation", None) is not None
            or getattr(args, "split", "time") == "random")


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
    """Commands that train both models use each model's book rate; a single
    --lr would silently apply to neither."""
    if args.lr is not None:
        raise DeepFMError("--lr: this command trains each model with its book learning rate "
                          "(FM 0.02, DeepFM 0.01); use `train --lr` for another rate")
