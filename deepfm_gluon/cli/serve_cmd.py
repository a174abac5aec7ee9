"""`deepfm-gluon evaluate` and `predict`: score files with a saved model."""
import json

import numpy as np

from ..atomic import atomic_write
from ..serving.onnx_engine import load_predictor
from ..serving.predictor import Predictor


def run_evaluate(args):
    scores = Predictor(args.model_dir).evaluate_file(args.data, strict=args.strict)
    if args.json:
        print(json.dumps(scores, indent=1))
    else:
        print(f"{args.data}: {scores['examples']} examples, AUC {scores['auc']:.4f}, "
              f"logloss {scores['logloss']:.4f}, acc {scores['acc']:.4f}, "
              f"skipped lines {scores['skipped_lines']}")
    return 0


def run_predict(args):
    predictor = load_predictor(args.model_dir, args.engine)
    features, _, report = predictor.read(args.input, strict=args.strict)
    probs = predictor.predict_features(features)
    atomic_write(args.output, lambda tmp: np.savetxt(tmp, probs, fmt="%.8f"))
    print(f"wrote {len(probs)} probabilities to {args.output}")
    if report.skipped:
        print("warning: " + report.summary())
    return 0
