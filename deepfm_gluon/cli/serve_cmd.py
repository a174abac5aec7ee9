"""`deepfm-gluon evaluate` and `predict`: score files with a saved model."""
import json

import numpy as np

from ..atomic import atomic_write
from ..serving.onnx_engine import load_predictor
from ..serving.predictor import Predictor


def run_evaluate(args):
    """`evaluate --model-dir D --data FILE [--json] [--strict]`: prints AUC,
    logloss, accuracy and skipped lines of FILE; returns the exit code 0."""
    scores = Predictor(args.model_dir).evaluate_file(args.data, strict=args.strict)
    if args.json:
        print(json.dumps(scores, indent=1))
    else:
        print(f"{args.data}: {scores['examples']} examples, AUC {scores['auc']:.4f}, "
              f"logloss {scores['logloss']:.4f}, acc {scores['acc']:.4f}, "
              f"skipped lines {scores['skipped_lines']}")
    return 0


def run_predict(args):
    """`predict --model-dir D --input FILE --output OUT [--engine E]`: writes one
    float probability per scored line of FILE to OUT; returns the exit code 0."""
    predictor = load_predictor(args.model_dir, args.engine)
    features, _, report = predictor.read(args.input, strict=args.strict)
    probs = predictor.predict_features(features)
    atomic_write(args.output, lambda tmp: np.savetxt(tmp, probs, fmt="%.8f"))
    print(f"wrote {len(probs)} probabilities to {args.output}")
    if report.skipped:
        print("warning: " + report.summary())
    return 0
