"""`deepfm-gluon compare`: any registered models (FM and DeepFM by default),
the book's protocol and early stopping side by side, paired across seeds."""
import json
import os

from ..errors import DeepFMError
from ..experiments.compare import PROTOCOL_COLUMNS, by_protocol, compare_protocols, format_table
from ..training.config import RunSpec
from .common import (add_validation, load_data, model_overrides, model_spec, reject_lr, resolve_preset,
                     train_config)


def model_list(text):
    """``--models``: comma-separated registered names, or 'all'; each name
    checked (an unknown one is one line listing the known ones), no repeats."""
    from ..models.registry import model_names  # start-up: model modules load MXNet
    if text.strip() == "all":
        return model_names()
    kinds = [part.strip() for part in text.split(",") if part.strip()]
    if not kinds:
        raise DeepFMError(f"--models {text!r}: expected comma-separated model names or 'all'")
    for kind in kinds:
        model_spec(kind)
    if len(set(kinds)) != len(kinds):
        raise DeepFMError(f"--models {text}: a model is named twice")
    return kinds


def run(args):
    if getattr(args, "tune", None) or getattr(args, "config", None):
        if args.tune and args.config:
            raise DeepFMError("--tune and --config exclude each other (--tune writes the configurations)")
        from .tuned_compare_cmd import run as run_tuned  # imported here to keep start-up fast (tuning)
        return run_tuned(args, model_list(args.models))
    kinds = model_list(args.models)
    preset = resolve_preset(args)
    if preset.name == "book":
        reject_lr(args)
    config = train_config(args)
    RunSpec(config=config, data=args.data, hash_buckets=args.hash_buckets, preset=preset).validate()
    overrides = {kind: model_overrides(args, kind) for kind in kinds}  # flags reach the models declaring them
    split = load_data(args, validation=False)
    validated = add_validation(split, args)
    patience = config.early_stop or 2
    seeds = list(range(args.seed, args.seed + args.seeds))
    rows, runs = compare_protocols(split, validated, config, patience=patience, kinds=kinds, out_dir=args.out,
                                   model_overrides=overrides, log=None if args.json else print, seeds=seeds)
    mode = next(iter(runs["book"].values())).mode
    with open(os.path.join(args.out, "compare.json")) as f:
        saved = json.load(f)
    if args.json:
        print(json.dumps({k: v for k, v in saved.items() if k != "histories"}, indent=1))
        return 0
    print(f"\n{', '.join(kinds)} on {split.name}, --preset {preset.name}, {mode} mode"
          + (f", means over seeds {seeds[0]}..{seeds[-1]}." if len(seeds) > 1 else "."))
    print(f"book: all {len(split.train)} training lines, {config.epochs} epochs, final epoch's test metrics.")
    print(f"early-stop: {len(validated.train)} training lines ({validated.protocol}); "
          f"stopped after {patience} epochs without a better validation {config.monitor}; test "
          "metrics of the restored best-validation epoch.")
    print(format_table(by_protocol(rows), PROTOCOL_COLUMNS))
    for protocol, pairs in (saved.get("paired") or {}).items():
        for pair in pairs:
            print(f"{protocol}: {pair['model']} - {pair['baseline']} test AUC {pair['auc_diff_mean']:+.4f} "
                  f"(std {pair['auc_diff_std']:.4f}), ahead in {pair['wins']} of {pair['seeds']} seeds, "
                  f"paired t-test p = {pair['paired_t_p']:.3g}")
    print(f"curves: {os.path.join(args.out, 'compare.png')}")
    return 0
