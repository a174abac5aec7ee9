"""`deepfm-gluon explain`: reliability diagram, permutation importance and
the field x field interaction heatmap of a saved model (experiments/explain.py)."""
import os

from ..experiments.explain_run import explain_model_dir


def run(args):
    fields = [f.strip() for f in args.fields.split(",") if f.strip()] if args.fields else None
    result, figures = explain_model_dir(args.model_dir, data=args.data, validation=args.validation,
                                        out_dir=args.out, data_dir=args.data_dir, fields=fields,
                                        repeats=args.repeats, seed=args.seed, max_rows=args.max_rows)
    rel, imp = result["reliability"], result["importance"]
    print(f"reliability on {rel['data']}: ECE {rel['ece']:.4f}, calibration {rel['calibration']:.3f} "
          f"({len(rel['bins'])} equal-mass bins)")
    top = sorted(imp["fields"], key=lambda r: -r["mean_drop"])[:5]
    print(f"permutation importance on {imp['data']} (base AUC {imp['base_auc']:.4f}): "
          + ", ".join(f"{r['field']} {r['mean_drop']:+.4f}±{r['std_drop']:.4f}" for r in top))
    if result["interactions"]:
        pairs = result["interactions"]["top_pairs"][:5]
        print("strongest field pairs: " + ", ".join(f"{p['fields'][0]}x{p['fields'][1]} {p['strength']:.4f}"
                                                   for p in pairs))
    else:
        print(f"no interaction heatmap: model {result['model']} has no FM factor table")
    out = os.path.dirname(next(iter(figures.values())))
    print(f"wrote {', '.join(sorted(os.path.basename(p) for p in figures.values()))} and explain.json to {out}")
    return 0
