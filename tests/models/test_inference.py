"""Prediction graphs through the MKLDNN subgraph backend: same outputs, fewer operators."""
import json
import os
import tempfile

import mxnet as mx
import numpy as np
import pytest

from deepfm_gluon.models import build_model, model_names
from deepfm_gluon.models.inference import hybridize_for_inference, inference_backend
from deepfm_gluon.training.loop import predict_logits

DIMS = [7, 5, 11, 3, 9]


def features(n, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 3, (n, len(DIMS))) + np.concatenate([[0], np.cumsum(DIMS)[:-1]])).astype(np.int32)


@pytest.mark.parametrize("kind", model_names())
def test_inference_graph_gives_the_eager_outputs_bit_for_bit(kind):
    mx.npx.set_np()
    net = build_model(kind, DIMS)
    net.initialize(mx.init.Xavier())
    X = features(300)
    eager = predict_logits(net, X, mx.cpu(), 128)  # full batches and a short last one
    hybridize_for_inference(net)
    np.testing.assert_array_equal(predict_logits(net, X, mx.cpu(), 128), eager)
    np.testing.assert_array_equal(predict_logits(net, X[:5], mx.cpu(), 128), eager[:5])


def operators_per_call(net, x):
    net(x).asnumpy()
    # a trace file of its own: MXNet replaces the file it is given, so os.devnull
    # would turn the machine's /dev/null (as root) into a regular file
    mx.profiler.set_config(profile_all=True, aggregate_stats=True,
                           filename=os.path.join(tempfile.gettempdir(), f"deepfm-gluon-profile-{os.getpid()}.json"))
    mx.profiler.set_state("run")
    net(x).asnumpy()
    mx.profiler.set_state("stop")
    ops = json.loads(mx.profiler.dumps(reset=True, format="json"))["Time"]["operator"]
    return {name: s["Count"] for name, s in ops.items() if name not in ("DeleteVariable", "WaitForVar")}


@pytest.mark.skipif(inference_backend() is None, reason="this MXNet build has no MKLDNN")
def test_deepfm_prediction_fuses_dense_relu_and_drops_dropout(monkeypatch):
    monkeypatch.setenv("MXNET_EXEC_BULK_EXEC_INFERENCE", "0")  # read when a graph is built
    mx.npx.set_np()
    x = mx.np.array(features(64), dtype=np.int32)
    counts = {}
    for way in ("plain", "inference"):
        net = build_model("deepfm", DIMS)
        net.initialize(mx.init.Xavier())
        if way == "plain":
            net.hybridize(static_alloc=True)
        else:
            hybridize_for_inference(net)
        counts[way] = operators_per_call(net, x)
    plain, fused = counts["plain"], counts["inference"]
    assert plain.get("Dropout") == 3 and plain.get("Activation") == 3 and "Dropout" not in fused
    assert fused.get("_sg_mkldnn_fully_connected") == plain["FullyConnected"]
    assert sum(fused.values()) == sum(plain.values()) - 6
