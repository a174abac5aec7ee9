"""`deepfm-gluon evaluate` and `predict`: score files with a saved model."""
import json
import sys

from ..data.sources import input_path
from ..serving.onnx_engine import load_predictor
from ..serving.predictor import Predictor
from ..training.metrics import format_scores
from .outputs import STDOUT, check_output, is_stream, write_output, write_output_with


def run_evaluate(args):
    """`evaluate --model-dir D --data FILE [--json] [--strict]`: prints every
    metric of ``training.metrics.METRICS`` and the skipped lines of FILE;
    returns the exit code 0."""
    scores = Predictor(args.model_dir).evaluate_file(args.data, strict=args.strict)
    if args.json:
        print(json.dumps(scores, indent=1))
    else:
        print(f"{args.data}: {scores['examples']} examples, {format_scores(scores)}, "
              f"skipped lines {scores['skipped_lines']}")
    return 0


def format_probabilities(probs):
    """One line per probability, ``nan`` for a malformed input line."""
    return "".join("nan\n" if p != p else f"{p:.8f}\n" for p in probs.tolist())


def run_predict(args):
    """`predict --model-dir D --input FILE --output OUT [--engine E]`: writes one
    float probability per input line of FILE to OUT (nan for a malformed line:
    row i always belongs to line i, docs/reliability.md); returns the exit code 0."""
    args.input = input_path(args.input)  # criteo:F, avazu:F, csv:F name the file F
    check_output(args.output, inputs=[args.input], folders=[args.model_dir], force=args.force)
    predictor = load_predictor(args.model_dir, args.engine)
    if predictor.table is not None:
        return run_predict_table(predictor, args)
    probs, report = predictor.predict_aligned(args.input, strict=args.strict)
    write_output(args.output, format_probabilities(probs))
    log = sys.stderr if args.output == STDOUT or is_stream(args.output) else sys.stdout
    print(f"wrote {len(probs)} probabilities to {args.output}"
          + (f" ({report.skipped} malformed lines as nan)" if report.skipped else ""), file=log)
    if report.skipped:
        print("warning: " + report.summary(), file=log)
    return 0


def run_predict_table(predictor, args):
    """Raw lines of a table source, streamed chunk by chunk (serving/criteo_scoring.py)."""
    from ..serving.criteo_scoring import predict_table_file  # table models only: keeps start-up fast
    result = {}

    def write(out):
        result["lines"], result["report"] = predict_table_file(predictor, args.input, out, args.strict)
    write_output_with(args.output, write)
    log = sys.stderr if args.output == STDOUT or is_stream(args.output) else sys.stdout
    print(f"wrote {result['lines']} probabilities to {args.output}", file=log)
    if result["report"].skipped:
        print("warning: " + result["report"].summary(), file=log)
    return 0
