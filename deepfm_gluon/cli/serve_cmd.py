"""`deepfm-gluon evaluate` and `predict`: score files with a saved model."""
import json

import numpy as np

from ..atomic import atomic_write
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
    predictor = Predictor(args.model_dir)
    if predictor.criteo:
        return run_predict_criteo(predictor, args)
    features, _, report = predictor.read(args.input, strict=args.strict)
    probs = predictor.predict_features(features)
    atomic_write(args.output, lambda tmp: np.savetxt(tmp, probs, fmt="%.8f"))
    print(f"wrote {len(probs)} probabilities to {args.output}")
    if report.skipped:
        print("warning: " + report.summary())
    return 0


def run_predict_criteo(predictor, args):
    """Raw Criteo lines, streamed chunk by chunk (serving/criteo_scoring.py)."""
    from ..serving.criteo_scoring import predict_criteo_file  # Criteo models only: keeps start-up fast
    result = {}

    def write(tmp):
        with open(tmp, "w") as out:
            result["lines"], result["report"] = predict_criteo_file(predictor, args.input, out, args.strict)
    atomic_write(args.output, write)
    print(f"wrote {result['lines']} probabilities to {args.output}")
    if result["report"].skipped:
        print("warning: " + result["report"].summary())
    return 0
