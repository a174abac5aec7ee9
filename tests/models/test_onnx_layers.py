"""The shared ONNX blocks against plain numpy written here: each block's graph,
run by ONNX Runtime, computes what its formula says (within 1e-5)."""
import numpy as onp
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from mxnet import np  # noqa: E402
from mxnet.gluon import nn  # noqa: E402

from deepfm_gluon.models import onnx_layers  # noqa: E402
from deepfm_gluon.models.onnx_layers import OnnxGraph  # noqa: E402

FIELD_DIMS = [3, 5, 2, 4]
ROWS, K = sum(FIELD_DIMS), 3


def random_x(n=7, seed=0):
    rng = onp.random.default_rng(seed)
    offsets = onp.concatenate([[0], onp.cumsum(FIELD_DIMS)[:-1]])
    return (onp.stack([rng.integers(0, d, n) for d in FIELD_DIMS], axis=1) + offsets).astype(onp.int64)


def randomized(block, seed=0):
    block.initialize()
    rng = onp.random.default_rng(seed)
    for p in block.collect_params().values():
        values = rng.normal(0, 0.5, p.shape)
        if p.name.endswith("running_var"):
            values = onp.abs(values) + 0.5
        p.set_data(np.array(values.astype("float32")))
    return block


def weights(block):
    return block.weight.data().asnumpy().astype(onp.float64)


def run(graph, logit, x):
    model = graph.model(logit)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {graph.x: x})[0]


def test_fm_interaction_and_linear_term_match_their_formulas():
    table, fc, linear = (randomized(nn.Embedding(ROWS, K), 1), randomized(nn.Embedding(ROWS, 1), 2),
                         randomized(nn.Dense(1, in_units=1), 3))
    graph = OnnxGraph(len(FIELD_DIMS))
    embed = onnx_layers.embedding(graph, table)
    out = graph.add(onnx_layers.linear_term(graph, fc, linear), onnx_layers.fm_interaction(graph, embed))
    x = random_x()
    e, w = weights(table)[x], weights(fc)[x, 0]
    pairs = onp.array([sum(row[i] @ row[j] for i in range(len(row)) for j in range(i + 1, len(row)))
                       for row in e])
    expected = weights(linear)[0, 0] * w.sum(1) + linear.bias.data().asnumpy()[0] + pairs
    onp.testing.assert_allclose(run(graph, out, x).ravel(), expected, rtol=0, atol=1e-5)


def test_bi_interaction_is_the_pairwise_elementwise_product_sum():
    table = randomized(nn.Embedding(ROWS, K), 4)
    graph = OnnxGraph(len(FIELD_DIMS))
    pooled = onnx_layers.bi_interaction(graph, onnx_layers.embedding(graph, table))
    out = graph.node("ReduceSum", [pooled, graph.axes(1)], keepdims=1)
    x = random_x()
    e = weights(table)[x]
    expected = [sum(row[i] * row[j] for i in range(len(row)) for j in range(i + 1, len(row))).sum()
                for row in e]
    onp.testing.assert_allclose(run(graph, out, x).ravel(), expected, rtol=0, atol=1e-5)


def test_mlp_of_dense_batchnorm_dropout_and_activation_layers():
    layers = nn.HybridSequential()
    layers.add(nn.Dense(5, "relu", in_units=len(FIELD_DIMS) * K), nn.BatchNorm(in_channels=5),
               nn.Dropout(0.5), nn.Dense(4, "tanh", in_units=5), nn.Activation("sigmoid"),
               nn.Dense(1, in_units=4))
    randomized(layers, 5)
    table = randomized(nn.Embedding(ROWS, K), 6)
    graph = OnnxGraph(len(FIELD_DIMS))
    out = onnx_layers.mlp(graph, layers, onnx_layers.flatten_fields(graph, onnx_layers.embedding(graph, table)))
    x = random_x()
    h = weights(table)[x].reshape(len(x), -1)
    params = [{n.rsplit("_", 1)[-1]: p.data().asnumpy().astype(onp.float64)
               for n, p in layer.collect_params().items()} for layer in layers]
    h = onp.maximum(h @ params[0]["weight"].T + params[0]["bias"], 0)
    bn = params[1]
    h = bn["gamma"] * (h - bn["mean"]) / onp.sqrt(bn["var"] + 1e-5) + bn["beta"]
    h = 1 / (1 + onp.exp(-onp.tanh(h @ params[3]["weight"].T + params[3]["bias"])))
    expected = h @ params[5]["weight"].T + params[5]["bias"]
    onp.testing.assert_allclose(run(graph, out, x), expected, rtol=0, atol=1e-5)
    # and what Gluon computes at inference
    onp.testing.assert_allclose(run(graph, out, x), layers(np.array(h_input(table, x))).asnumpy(),
                                rtol=0, atol=1e-5)


def h_input(table, x):
    return weights(table)[x].reshape(len(x), -1).astype(onp.float32)


def test_names_stay_unique_and_unknown_layers_are_refused_by_name():
    graph = OnnxGraph(2)
    assert graph.unique("a") == "a" and graph.unique("a") == "a_2"
    layers = nn.HybridSequential()
    layers.add(nn.LayerNorm(in_channels=3))
    with pytest.raises(ValueError, match=r"mlp\.0: LayerNorm has no ONNX block"):
        onnx_layers.mlp(graph, layers, "h")
