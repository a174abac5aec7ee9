"""FuxiCTR 2.3.10's DeepFM at BARS size, trained step by step as its
``BaseModel.fit`` does (``train_step``: zero_grad, forward, loss with its
regularizers, backward, clip_grad_norm, Adam), on the benchmark's arrays.

Runs in the peers' scratch venv (benchmarks/setup_peers.sh). FuxiCTR's pip
package holds the library; its DeepFM comes from a checkout of
reczoo/FuxiCTR: pass --model-zoo CHECKOUT/model_zoo.

  python fuxictr_deepfm.py --npz bars.npz --model-zoo FuxiCTR/model_zoo --threads 2

BARS Criteo_x1 DeepFM settings (FuxiCTR's benchmark config): embedding 10,
MLP 400x3 with batch norm, dropout 0.2, embedding regularizer 1e-5, Adam
1e-3, batch 4096. The batches are dicts of tensors, as its data loaders
yield them, made before the clock starts. Prints one line:
'fuxictr deepfm: N examples/sec train, M examples/sec predict'.
"""
import argparse
import json
import logging
import os
import sys
import tempfile
import time

import numpy as np
import torch


def feature_map(field_dims, folder):
    """A FuxiCTR FeatureMap for ``field_dims`` categorical fields c0..c{n-1}."""
    from fuxictr.features import FeatureMap
    spec = {"dataset_id": "bench", "num_fields": len(field_dims), "total_features": int(sum(field_dims)),
            "input_length": len(field_dims), "labels": ["label"],
            "features": [{f"c{i}": {"source": "", "type": "categorical", "padding_idx": 0,
                                    "vocab_size": int(d)}} for i, d in enumerate(field_dims)]}
    path = os.path.join(folder, "feature_map.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    fmap = FeatureMap("bench", folder)
    fmap.load(path, {"embedding_dim": 10})
    return fmap


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--npz", required=True)
    p.add_argument("--model-zoo", required=True, help="reczoo/FuxiCTR checkout's model_zoo folder")
    p.add_argument("--batch-size", type=int, default=4096)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    logging.disable(logging.CRITICAL)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    sys.path.insert(0, os.path.join(a.model_zoo, "DeepFM", "DeepFM_torch"))
    from src import DeepFM  # FuxiCTR's model zoo file
    d = np.load(a.npz)
    field_dims = [int(x) for x in d["field_dims"]]
    offsets = np.concatenate([[0], np.cumsum(field_dims)[:-1]])
    local = torch.from_numpy((d["X"] - offsets).astype(np.int64))
    y = torch.from_numpy(d["y"].astype(np.float32))
    with tempfile.TemporaryDirectory() as folder:
        net = DeepFM(feature_map(field_dims, folder), model_id="DeepFM", gpu=-1, learning_rate=1e-3,
                     embedding_dim=10, hidden_units=[400, 400, 400], hidden_activations="relu",
                     net_dropout=0.2, batch_norm=True, embedding_regularizer=1e-5, net_regularizer=0,
                     optimizer="adam", loss="binary_crossentropy", verbose=0, model_root=folder,
                     metrics=["logloss", "AUC"])
    net._max_gradient_norm = 10.0  # BaseModel.fit's default
    n, B = len(local), a.batch_size
    def batch(idx):
        return {**{f"c{i}": local[idx, i] for i in range(len(field_dims))}, "label": y[idx]}
    net.train()
    seen, start = 0, time.perf_counter()
    for _ in range(a.epochs):
        perm = torch.randperm(n)
        for i in range(0, n - B + 1, B):
            net.train_step(batch(perm[i:i + B]))
            seen += B
    train = seen / (time.perf_counter() - start)
    net.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, n, 8192):
            net.forward(batch(torch.arange(i, min(n, i + 8192))))
    predict = n / (time.perf_counter() - start)
    print(f"fuxictr deepfm: {train:.0f} examples/sec train, {predict:.0f} examples/sec predict", flush=True)


if __name__ == "__main__":
    main()
