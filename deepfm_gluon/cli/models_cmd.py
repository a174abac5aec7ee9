"""`deepfm-gluon models`: every registered model, from its MODEL spec alone."""
import json

from ..models.registry import all_specs


def format_value(value):
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def describe(spec):
    """Lines for one model: name and description, then lr, tables, ONNX and
    one line per hyperparameter (default, range, flag, help)."""
    lines = [f"{spec.name}: {spec.description}",
             f"  lr {spec.lr:g}; embedding tables: {', '.join(spec.tables) or 'none'}; "
             f"ONNX export: {'yes' if spec.onnx else 'no (--format mxnet)'}"
             + (f"; plug-in {spec.module}" if not spec.module.startswith("deepfm_gluon.") else "")]
    for h in spec.hyperparameters:
        length = f", {h.min_len}..{h.max_len} entries" if h.kind == "ints" else ""
        flag = f"; {h.flag}" if h.flag else ""
        lines.append(f"  {h.name} = {format_value(h.default)}  ({h.kind}, {h.range_text()}{length}{flag})"
                     + (f"  {h.help}" if h.help else ""))
    return lines


def run(args):
    """`models [--json]`: one block per model, or a JSON list of their summaries."""
    specs = all_specs()
    if args.json:
        print(json.dumps([spec.to_dict() for spec in specs], indent=1))
        return 0
    for i, spec in enumerate(specs):
        if i:
            print()
        print("\n".join(describe(spec)))
    print("\nset a hyperparameter: train --model NAME --model-arg NAME=VALUE (or its flag)")
    return 0
