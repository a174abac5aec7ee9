"""Prediction throughput: ONNX Runtime and the folded table beside MXNet, same model, same batches.

    OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive python benchmarks/engine_throughput.py --threads 2

For each model dir and batch size, ``predict_features`` of ``Predictor``
(MXNet, hybridized, static_alloc; OMP_NUM_THREADS threads) and
``OnnxPredictor`` (ONNX Runtime, --threads intra-op threads, idle ones
sleeping) and ``FoldedPredictor`` (``--engine folded``: FM and DeepFM from
one folded table, models/folded.py) score the same --rows feature rows (the test set, tiled); the
engines alternate within each repeat and the median over repeats is
reported, with the best. Without --model-dir it trains the book's FM and
DeepFM on the default data (3 epochs).

On a shared machine set OMP_WAIT_POLICY=passive: with the default (spinning)
OpenMP workers, MXNet ran 10-100x slower here whenever other jobs held the
cores, which measures the neighbours, not the engine.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from deepfm_gluon.data.sources import load_split  # noqa: E402 - after sys.path.insert
from deepfm_gluon.serving.folded_engine import FoldedPredictor  # noqa: E402
from deepfm_gluon.serving.onnx_engine import OnnxPredictor  # noqa: E402
from deepfm_gluon.serving.predictor import Predictor  # noqa: E402


def train(kind, work):
    out = os.path.join(work, kind)
    subprocess.run([sys.executable, "-m", "deepfm_gluon", "train", "--model", kind, "--epochs", "3",
                    "--no-checkpoints", "--no-progress", "--out", out], check=True, stdout=subprocess.DEVNULL)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", nargs="+", default=None)
    parser.add_argument("--batch", nargs="+", type=int, default=[100, 2048, 8192])
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    dirs = args.model_dir or [train(k, tempfile.mkdtemp(prefix="engines_")) for k in ("fm", "deepfm")]
    results = []
    for model_dir in dirs:
        engines = {"mxnet": Predictor(model_dir), "onnxruntime": OnnxPredictor(model_dir, threads=args.threads),
                   "folded": FoldedPredictor(model_dir)}
        test = load_split("synthetic").test.features
        features = np.resize(test, (args.rows, test.shape[1]))
        for batch in args.batch:
            seconds = {name: [] for name in engines}
            for engine in engines.values():
                engine.batch_size = batch
                engine.predict_features(features[:batch * 2])  # warm-up
            for _ in range(args.repeats):
                for name, engine in engines.items():
                    start = time.perf_counter()
                    engine.predict_features(features)
                    seconds[name].append(time.perf_counter() - start)
            for name, times in seconds.items():
                results.append({"model": engines[name].meta["kind"], "engine": name, "batch": batch,
                                "rows": args.rows, "median_rows_per_sec": args.rows / float(np.median(times)),
                                "best_rows_per_sec": args.rows / min(times)})
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, ONNX Runtime threads {args.threads}, "
          f"{args.rows} rows x {args.repeats} repeats, load {os.getloadavg()[0]:.1f} at the end")
    print("| model | batch | MXNet rows/s (median, best) | ONNX Runtime rows/s (median, best) | "
          "folded rows/s (median, best) | ONNX Runtime / MXNet | folded / MXNet |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rate = lambda row: f"{row['median_rows_per_sec'] / 1e6:.2f}M, {row['best_rows_per_sec'] / 1e6:.2f}M"  # noqa: E731
    for mx_row, ort_row, folded_row in zip(results[0::3], results[1::3], results[2::3]):
        print(f"| {mx_row['model']} | {mx_row['batch']} | {rate(mx_row)} | {rate(ort_row)} | {rate(folded_row)} | "
              f"{ort_row['median_rows_per_sec'] / mx_row['median_rows_per_sec']:.2f} | "
              f"{folded_row['median_rows_per_sec'] / mx_row['median_rows_per_sec']:.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"platform": platform.platform(), "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
