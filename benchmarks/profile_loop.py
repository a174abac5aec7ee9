#!/usr/bin/env python
"""Where one training epoch's time goes: MXNet's per-operator profile and a
cProfile of the Python side, for the package's loop on synthetic data.

    OMP_WAIT_POLICY=passive python benchmarks/profile_loop.py --rows 15000 --epochs 3
    # BARS size: 39 fields x 65,536 rows, MLP 400x3, batch 4096, Adam 1e-3, sparse table updates
    OMP_WAIT_POLICY=passive python benchmarks/profile_loop.py --size bars --rows 81920 --epochs 1
    # A/B of the optimizer step, wall clock only (no profilers): add --time-only [--per-parameter]
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
from deepfm_gluon.training.sparse import SparseFitter

SIZES = {  # name -> (fields, rows per field, batch, model overrides, lr, sparse)
    "book": (34, 117, 2048, {}, None, False),
    "bars": (39, 65536, 4096, {"num_factors": 10, "mlp_dims": [400, 400, 400], "drop_rate": 0.1}, 1e-3, True),
}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", choices=sorted(SIZES), default="book")
    p.add_argument("--model", default="deepfm")
    p.add_argument("--rows", type=int, default=15000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--per-parameter", action="store_true", help="Gluon's Adam step, one operator per parameter")
    p.add_argument("--time-only", action="store_true", help="no profilers: the wall-clock rate alone")
    a = p.parse_args()
    mx.npx.set_np()
    rng = np.random.default_rng(0)
    fields, card, batch, overrides, lr, sparse = SIZES[a.size]
    X = rng.integers(0, card, (a.rows, fields)) + np.arange(fields) * card
    y = rng.integers(0, 2, a.rows).astype(np.float32)
    net = build_model(a.model, [card] * fields, **overrides)
    config = TrainConfig(progress=False, devices="cpu", batch_size=batch, lr=lr, sparse=sparse,
                         fused_adam=not a.per_parameter)
    fitter = (SparseFitter if sparse else Fitter)(net, a.model, config)
    fitter.initialize()
    batches = BatchIterator(X, y, batch, seed=0)
    fitter.train_epoch(batches, 0)  # warm-up: graph building and allocation
    mx.npx.waitall()
    if not a.time_only:
        mx.profiler.set_config(profile_all=True, aggregate_stats=True, filename="profile_loop.json")
        mx.profiler.set_state("run")
    profile = cProfile.Profile()
    start = time.perf_counter()
    if not a.time_only:
        profile.enable()
    seen = sum(fitter.train_epoch(batches, e)[1] for e in range(a.epochs))
    mx.npx.waitall()
    profile.disable()
    seconds = time.perf_counter() - start
    print(f"{seen} examples in {seconds:.3f}s: {seen / seconds:.0f} examples/sec "
          f"({1000 * seconds / (seen / batch):.2f} ms per batch of {batch})\n")
    if a.time_only:
        return
    mx.profiler.set_state("stop")
    print(mx.profiler.dumps(sort_by="total", ascending=False))
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(a.top)
    print(text.getvalue())


if __name__ == "__main__":
    main()
