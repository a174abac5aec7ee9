"""A pytorch-fm (``torchfm`` 0.7.0) model trained as its users train it, on
the benchmark's encoded arrays: the twin of one deepfm-gluon model.

Runs in the peers' scratch venv (benchmarks/setup_peers.sh), never in the
package's: torch and torchfm are not dependencies.

  python torchfm_twin.py --npz data.npz --model deepfm --config '{"num_factors": 10, ...}' \
      --epochs 1 --batch-size 2048 --lr 0.01 --threads 2

``data.npz`` holds X (int, global feature ids: field offsets added), y and
field_dims; torchfm adds the offsets itself, so they are taken off here,
before the clock starts. pytorch-fm's own example (examples/main.py) trains
with Adam, BCELoss and a DataLoader over a Dataset; this loop takes shuffled
slices of tensors instead, which favours the peer. Prints one line:
'torch MODEL: N examples/sec train, M examples/sec predict'.
"""
import argparse
import json
import time

import numpy as np
import torch
from torchfm.model.afi import AutomaticFeatureInteractionModel
from torchfm.model.dcn import DeepCrossNetworkModel
from torchfm.model.dfm import DeepFactorizationMachineModel
from torchfm.model.fm import FactorizationMachineModel
from torchfm.model.lr import LogisticRegressionModel
from torchfm.model.nfm import NeuralFactorizationMachineModel
from torchfm.model.wd import WideAndDeepModel
from torchfm.model.xdfm import ExtremeDeepFactorizationMachineModel


def build(model, field_dims, c):
    """The torchfm twin of our ``model`` with our hyperparameters ``c``."""
    k, mlp, drop = c.get("num_factors", 10), tuple(c.get("mlp_dims", (400, 400, 400))), c.get("drop_rate", 0.0)
    if model == "lr":
        return LogisticRegressionModel(field_dims)
    if model == "fm":
        return FactorizationMachineModel(field_dims, k)
    if model == "deepfm":
        return DeepFactorizationMachineModel(field_dims, k, mlp, drop)
    if model == "widedeep":
        return WideAndDeepModel(field_dims, k, mlp, drop)
    if model == "nfm":
        return NeuralFactorizationMachineModel(field_dims, k, mlp, (drop, drop))
    if model == "dcnv2":  # pytorch-fm has DCN (v1): its cross layers are the nearest twin
        return DeepCrossNetworkModel(field_dims, k, c.get("num_cross_layers", 3), mlp, drop)
    if model == "xdeepfm":
        return ExtremeDeepFactorizationMachineModel(field_dims, k, mlp, drop,
                                                    tuple(c.get("cin_layer_sizes", (16, 16))),
                                                    split_half=False)
    if model == "autoint":
        return AutomaticFeatureInteractionModel(field_dims, k, c.get("attention_dim", 64),
                                                c.get("num_heads", 2), c.get("num_attention_layers", 3),
                                                mlp, (drop, drop), has_residual=True)
    raise SystemExit(f"no torchfm twin for {model!r}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--npz", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--config", default="{}", help="our model's hyperparameters, JSON")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=2048)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--predict-batch", type=int, default=8192)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    d = np.load(a.npz)
    field_dims = [int(f) for f in d["field_dims"]]
    offsets = np.concatenate([[0], np.cumsum(field_dims)[:-1]])
    X = torch.from_numpy((d["X"] - offsets).astype(np.int64))
    y = torch.from_numpy(d["y"].astype(np.float32))
    net = build(a.model, field_dims, json.loads(a.config))
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    loss = torch.nn.BCELoss()
    n, B = len(X), a.batch_size
    seen, start = 0, time.perf_counter()
    net.train()
    for _ in range(a.epochs):
        perm = torch.randperm(n)
        for i in range(0, n - B + 1, B):
            idx = perm[i:i + B]
            opt.zero_grad()
            loss(net(X[idx]), y[idx]).backward()
            opt.step()
            seen += B
    train = seen / (time.perf_counter() - start) if seen else 0.0
    net.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, n, a.predict_batch):
            net(X[i:i + a.predict_batch])
    predict = n / (time.perf_counter() - start)
    print(f"torch {a.model}: {train:.0f} examples/sec train, {predict:.0f} examples/sec predict", flush=True)


if __name__ == "__main__":
    main()
