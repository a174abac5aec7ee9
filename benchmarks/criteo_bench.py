"""Criteo benchmarks: encoding rate and peak memory, sparse vs dense step time.

    OMP_NUM_THREADS=2 python benchmarks/criteo_bench.py encode --rows 1000000
    OMP_NUM_THREADS=2 python benchmarks/criteo_bench.py step --vocab 100000 10000000

``encode`` writes a synthetic Criteo-format file (once, under --work) and
encodes it into a fresh cache in a child process, reporting rows/sec and
the child's peak RSS (ru_maxrss), so the generator's memory is not counted.
``step`` times training steps of DeepFM (book settings, batch 2048, 39
fields) on random batches at each vocabulary size, with sparse (lazy Adam)
and dense updates; it reports the median and the minimum over the timed
steps (the minimum is the least disturbed by other processes).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

ENCODE_CHILD = """
import json, os, resource, shutil, sys, time
from deepfm_gluon.data.criteo import CriteoOptions, open_cache
path, cache, buckets = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.rmtree(cache, ignore_errors=True)
load_before = os.getloadavg()[0]
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
folder, meta = open_cache(path, cache, CriteoOptions(hash_buckets=buckets))
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - cpu0.ru_utime - cpu0.ru_stime
print(json.dumps({"rows": meta["num_rows"], "seconds": seconds, "rows_per_sec": meta["num_rows"] / seconds,
                  "cpu_seconds": cpu, "rows_per_cpu_sec": meta["num_rows"] / cpu,
                  "peak_rss_mib": usage.ru_maxrss / 1024, "features": sum(meta["field_dims"]),
                  "loadavg_before": load_before, "loadavg_after": os.getloadavg()[0]}))
shutil.rmtree(cache, ignore_errors=True)
"""


def bench_encode(rows, work, hash_buckets=0):
    # start-up: each subcommand imports only what it runs (`encode` never loads MXNet)
    from deepfm_gluon.data.criteo import CriteoSyntheticSpec, write_criteo_synthetic
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, f"criteo-synthetic-{rows}.txt")
    if not os.path.exists(path):
        start = time.perf_counter()
        write_criteo_synthetic(path, CriteoSyntheticSpec(num_rows=rows))
        print(f"generated {path} in {time.perf_counter() - start:.0f}s", file=sys.stderr)
    env = {**os.environ, "PYTHONPATH": ROOT}
    out = subprocess.run([sys.executable, "-c", ENCODE_CHILD, path, os.path.join(work, "cache"),
                          str(hash_buckets)], env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(kind="encode", encoding="hash" if hash_buckets else "vocab",
                  file_mib=os.path.getsize(path) / 2**20)
    return result


def bench_step(vocab, sparse, steps, batch_size=2048, num_fields=39):
    # start-up: only `step` needs MXNet and the models; `encode` runs without them
    import mxnet as mx
    from mxnet import npx
    npx.set_np()
    from deepfm_gluon.models import build_model
    from deepfm_gluon.training.config import TrainConfig
    from deepfm_gluon.training.loop import Fitter
    from deepfm_gluon.training.sparse import SparseFitter
    per_field = vocab // num_fields
    net = build_model("deepfm", [per_field] * num_fields)
    config = TrainConfig(batch_size=batch_size, devices="cpu", progress=False)
    fitter = (SparseFitter if sparse else Fitter)(net, "deepfm", config, kvstore=None)
    fitter.initialize()
    rng = np.random.default_rng(0)
    offsets = np.arange(num_fields) * per_field
    # Zipf-like ids, as in CTR data: most cells hit a few rows.
    def batch():
        ids = np.minimum(rng.zipf(1.2, (batch_size, num_fields)) - 1, per_field - 1)
        return ids + offsets, rng.integers(0, 2, (batch_size, 1)).astype(np.float32)
    times = []
    for i in range(steps + 3):
        X, y = batch()
        start = time.perf_counter()
        fitter.train_epoch([(X, y)], 1)  # one batch; drains (waits for) the result
        mx.nd.waitall()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return {"kind": "step", "vocab": per_field * num_fields, "updates": "sparse" if sparse else "dense",
            "loadavg": os.getloadavg()[0],
            "median_ms": 1000 * float(np.median(times)), "min_ms": 1000 * float(np.min(times)),
            "steps": steps}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    e = sub.add_parser("encode")
    e.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    e.add_argument("--hash-buckets", type=int, default=0)
    e.add_argument("--work", default=os.path.join("/tmp", "criteo-bench"))
    s = sub.add_parser("step")
    s.add_argument("--vocab", type=int, nargs="+", default=[100_000, 10_000_000])
    s.add_argument("--steps", type=int, default=20)
    s.add_argument("--dense-steps", type=int, default=5)
    args = p.parse_args(argv)
    print(json.dumps({"machine": f"{os.cpu_count()} cores, {platform.platform()}",
                      "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
                      "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))
    if args.what == "encode":
        for rows in args.rows:
            print(json.dumps(bench_encode(rows, args.work, args.hash_buckets)), flush=True)
    else:
        for vocab in args.vocab:
            for sparse in (True, False):
                steps = args.steps if sparse else args.dense_steps
                print(json.dumps(bench_step(vocab, sparse, steps)), flush=True)


if __name__ == "__main__":
    main()
