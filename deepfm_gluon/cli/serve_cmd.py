"""`deepfm-gluon evaluate` and `predict`: score files with a saved model."""
import json

import numpy as np


def add_parsers(subparsers):
    p = subparsers.add_parser("evaluate", help="AUC, logloss and accuracy of a saved model on a file")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--data", required=True, help="a file in the training format (label first)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--strict", action="store_true")
    p.set_defaults(run=run_evaluate)
    p = subparsers.add_parser("predict", help="one click probability per input line")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--input", required=True, help="lines with or without the label column")
    p.add_argument("--output", required=True)
    p.add_argument("--strict", action="store_true")
    p.add_argument("--engine", choices=["mxnet", "onnxruntime"], default="mxnet",
                   help="onnxruntime needs the serve extra (docs/serving.md)")
    p.set_defaults(run=run_predict)


def run_evaluate(args):
    from ..serving.predictor import Predictor
    scores = Predictor(args.model_dir).evaluate_file(args.data, strict=args.strict)
    if args.json:
        print(json.dumps(scores, indent=1))
    else:
        print(f"{args.data}: {scores['examples']} examples, AUC {scores['auc']:.4f}, "
              f"logloss {scores['logloss']:.4f}, acc {scores['acc']:.4f}, "
              f"skipped lines {scores['skipped_lines']}")
    return 0


def run_predict(args):
    from ..atomic import atomic_write
    from ..serving.onnx_engine import load_predictor
    predictor = load_predictor(args.model_dir, args.engine)
    features, _, report = predictor.read(args.input, strict=args.strict)
    probs = predictor.predict_features(features)
    atomic_write(args.output, lambda tmp: np.savetxt(tmp, probs, fmt="%.8f"))
    print(f"wrote {len(probs)} probabilities to {args.output}")
    if report.skipped:
        print("warning: " + report.summary())
    return 0
