#!/usr/bin/env python
"""Operators and blocking calls per batch: numbers that do not depend on load.

On a shared machine wall-clock times are noise; how many engine operators a
training step or a prediction batch runs, and how often the Python thread
waits for the engine (synchronous copies, WaitForVar), are the same at any
load. MXNet's profiler counts them with bulk execution off, so every
operator of the hybridized graph is its own entry.

    python benchmarks/op_counts.py train --size book     # dense DeepFM, batch 2048
    python benchmarks/op_counts.py train --size bars     # sparse fitter, 39 x 65,536 rows, batch 4096
    python benchmarks/op_counts.py predict [--plain]     # predict_logits, batch 8192 (the serving graph)
    python benchmarks/op_counts.py predict --folded      # the folded table (--engine folded), batch 8192
    python benchmarks/op_counts.py train --per-parameter # Gluon's one adam_update per parameter (A/B)
"""
import argparse
import json
import os
import sys
import tempfile

# every operator its own profiler entry (set before MXNet is imported)
os.environ["MXNET_EXEC_BULK_EXEC_TRAIN"] = "0"
os.environ["MXNET_EXEC_BULK_EXEC_INFERENCE"] = "0"

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from profile_loop import SIZES  # noqa: E402

from deepfm_gluon.data.batches import BatchIterator  # noqa: E402
from deepfm_gluon.models import build_model, get_spec  # noqa: E402
from deepfm_gluon.models.inference import hybridize_for_inference  # noqa: E402
from deepfm_gluon.training.config import TrainConfig  # noqa: E402
from deepfm_gluon.training.loop import Fitter, predict_logits  # noqa: E402
from deepfm_gluon.training.sparse import SparseFitter  # noqa: E402

BLOCKING = ("MXNDArraySyncCopyFromCPU", "MXNDArraySyncCopyFromNDArray", "MXNDArraySyncCopyToCPU",
            "MXNDArrayWaitToRead", "MXNDArrayWaitToWrite")
NOT_OPERATORS = ("DeleteVariable", "WaitForVar")


def profiled(run, batches):
    """{name: count per batch} of ``run()`` (one warm-up call first)."""
    run()
    mx.npx.waitall()
    # a trace file of its own: MXNet replaces the file it is given, so os.devnull
    # would turn the machine's /dev/null (as root) into a regular file
    mx.profiler.set_config(profile_all=True, aggregate_stats=True,
                           filename=os.path.join(tempfile.gettempdir(), f"deepfm-gluon-profile-{os.getpid()}.json"))
    mx.profiler.set_state("run")
    run()
    mx.npx.waitall()
    mx.profiler.set_state("stop")
    stats = json.loads(mx.profiler.dumps(reset=True, format="json"))["Time"]
    return {(domain, name): s["Count"] / batches for domain, ops in stats.items() for name, s in ops.items()}


def train_run(size, model, batches, fused_adam=True):
    fields, card, batch, overrides, lr, sparse = SIZES[size]
    rng = np.random.default_rng(0)
    X = rng.integers(0, card, (batch * batches, fields)) + np.arange(fields) * card
    y = rng.integers(0, 2, len(X)).astype(np.float32)
    net = build_model(model, [card] * fields, **overrides)
    config = TrainConfig(progress=False, devices="cpu", batch_size=batch, lr=lr, sparse=sparse, fused_adam=fused_adam)
    fitter = (SparseFitter if sparse else Fitter)(net, model, config)
    fitter.initialize()
    it = BatchIterator(X, y, batch, seed=0)
    return lambda: fitter.train_epoch(it, 0)


def predict_run(model, batches, plain=False, batch=8192, folded=False):
    fields, card = 34, 117
    rng = np.random.default_rng(0)
    X = (rng.integers(0, card, (batch * batches, fields)) + np.arange(fields) * card).astype(np.int32)
    net = build_model(model, [card] * fields)
    net.initialize(mx.init.Xavier())
    if folded:
        table = get_spec(model).fold(net)
        return lambda: table.logits(X, batch)
    if plain:
        net.hybridize(static_alloc=True, static_shape=True)
    else:  # as serving/predictor.py does
        hybridize_for_inference(net, static_shape=True)
    return lambda: predict_logits(net, X, mx.cpu(), batch)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("task", choices=("train", "predict"))
    p.add_argument("--size", choices=sorted(SIZES), default="book")
    p.add_argument("--model", default="deepfm")
    p.add_argument("--batches", type=int, default=4)
    p.add_argument("--plain", action="store_true", help="predict: plain hybridize, not the inference graph")
    p.add_argument("--folded", action="store_true", help="predict: the folded table (FM, DeepFM)")
    p.add_argument("--per-parameter", action="store_true", help="train: Gluon's Adam step, one operator per parameter")
    a = p.parse_args()
    mx.npx.set_np()
    run = (train_run(a.size, a.model, a.batches, not a.per_parameter) if a.task == "train"
           else predict_run(a.model, a.batches, a.plain, folded=a.folded))
    counts = profiled(run, a.batches)
    operators = {name: c for (domain, name), c in counts.items()
                 if domain == "operator" and name not in NOT_OPERATORS}
    for name, c in sorted(operators.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{c:7.2f}  {name}")
    print(f"{sum(operators.values()):7.2f}  engine operators per batch")
    for name in BLOCKING:
        print(f"{counts.get(('MXNET_C_API', name), 0.0):7.2f}  {name} (the Python thread waits)")
    print(f"{counts.get(('operator', 'WaitForVar'), 0.0):7.2f}  WaitForVar")


if __name__ == "__main__":
    main()
