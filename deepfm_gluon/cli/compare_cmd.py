"""`deepfm-gluon compare`: FM vs DeepFM, the book's protocol and early stopping side by side."""
import json
import os

from ..experiments.compare import PROTOCOL_COLUMNS, by_protocol, compare_protocols, format_table
from ..training.config import RunSpec
from .common import (add_validation, load_data, preset_model_overrides, reject_lr, resolve_preset,
                     train_config)


def run(args):
    preset = resolve_preset(args)
    if preset.name == "book":
        reject_lr(args)
    config = train_config(args)
    RunSpec(config=config, data=args.data, hash_buckets=args.hash_buckets, preset=preset).validate()
    split = load_data(args, validation=False)
    validated = add_validation(split, args)
    patience = config.early_stop or 2
    overrides = {kind: preset_model_overrides(preset, kind) for kind in ("fm", "deepfm")}
    rows, runs = compare_protocols(split, validated, config, patience=patience, out_dir=args.out,
                                   model_overrides=overrides, log=None if args.json else print)
    mode = next(iter(runs["book"].values())).mode
    if args.json:
        with open(os.path.join(args.out, "compare.json")) as f:
            print(json.dumps({k: v for k, v in json.load(f).items() if k != "histories"}, indent=1))
        return 0
    print(f"\nFM vs DeepFM on {split.name}, --preset {preset.name}, {mode} mode.")
    print(f"book: all {len(split.train)} training lines, {config.epochs} epochs, final epoch's test metrics.")
    print(f"early-stop: {len(validated.train)} training lines ({validated.protocol}); "
          f"stopped after {patience} epochs without a better validation {config.monitor}; test "
          "metrics of the restored best-validation epoch.")
    print(format_table(by_protocol(rows), PROTOCOL_COLUMNS))
    print(f"curves: {os.path.join(args.out, 'compare.png')}")
    return 0
