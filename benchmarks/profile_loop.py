#!/usr/bin/env python
"""Where one training epoch's time goes: MXNet's per-operator profile and a
cProfile of the Python side, for the package's loop on synthetic data.

    OMP_WAIT_POLICY=passive python benchmarks/profile_loop.py --rows 15000 --epochs 3
"""
import argparse
import cProfile
import io
import pstats
import time

import mxnet as mx
import numpy as np

from deepfm_gluon.data.batches import BatchIterator
from deepfm_gluon.models import build_model
from deepfm_gluon.training.config import TrainConfig
from deepfm_gluon.training.loop import Fitter


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=15000)
    p.add_argument("--fields", type=int, default=34)
    p.add_argument("--card", type=int, default=117)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--top", type=int, default=20)
    a = p.parse_args()
    mx.npx.set_np()
    rng = np.random.default_rng(0)
    X = rng.integers(0, a.card, (a.rows, a.fields)) + np.arange(a.fields) * a.card
    y = rng.integers(0, 2, a.rows).astype(np.float32)
    net = build_model("deepfm", [a.card] * a.fields)
    fitter = Fitter(net, "deepfm", TrainConfig(progress=False, devices="cpu"))
    fitter.initialize()
    batches = BatchIterator(X, y, 2048, seed=0)
    fitter.train_epoch(batches, 0)  # warm-up: graph building and allocation
    mx.npx.waitall()
    mx.profiler.set_config(profile_all=True, aggregate_stats=True, filename="profile_loop.json")
    mx.profiler.set_state("run")
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    seen = sum(fitter.train_epoch(batches, e)[1] for e in range(a.epochs))
    mx.npx.waitall()
    profile.disable()
    seconds = time.perf_counter() - start
    mx.profiler.set_state("stop")
    print(f"{seen} examples in {seconds:.3f}s: {seen / seconds:.0f} examples/sec "
          f"({1000 * seconds / (seen / 2048):.2f} ms per batch of 2048)\n")
    print(mx.profiler.dumps(sort_by="total", ascending=False))
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(a.top)
    print(text.getvalue())


if __name__ == "__main__":
    main()
