"""The folded tables (models/folded.py): FM and DeepFM logits against a
plain-numpy oracle written here (float64, straight from the book's formulas)
and against the package's graph."""
import mxnet as mx
import numpy as np
import pytest

from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.models import LogitView, build_model, get_spec, model_names
from deepfm_gluon.models import folded
from deepfm_gluon.training.loop import predict_logits

DIMS = [7, 5, 11, 3, 9]


def features(n, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 3, (n, len(DIMS))) + np.concatenate([[0], np.cumsum(DIMS)[:-1]])).astype(np.int32)


def trained_like(kind, seed=0):
    """A net with Xavier weights plus noise on every parameter (biases too, which start at 0)."""
    mx.npx.set_np()
    mx.random.seed(seed)
    net = build_model(kind, DIMS, **({"mlp_dims": [8, 6]} if kind == "deepfm" else {}))
    net.initialize(mx.init.Xavier())
    rng = np.random.default_rng(seed)
    for p in net.collect_params().values():
        p.set_data(p.data() + mx.np.array(0.1 * rng.standard_normal(p.shape).astype(np.float32)))
    return net


def numpy_logits(net, x, kind):
    """The book's FM and DeepFM in float64 numpy."""
    w = lambda p: p.data().asnumpy().astype(np.float64)  # noqa: E731
    emb = w(net.embedding.weight)[x]  # (n, f, k)
    linear = w(net.fc.weight)[x].sum(axis=(1, 2))[:, None] * w(net.linear_layer.weight) + w(net.linear_layer.bias)
    fm = 0.5 * ((emb.sum(1) ** 2).sum(1) - (emb ** 2).sum((1, 2)))[:, None]
    out = linear + fm
    if kind == "deepfm":
        h = emb.reshape(len(x), -1)
        dense = [layer for layer in net.mlp if hasattr(layer, "weight")]
        for i, layer in enumerate(dense):
            h = h @ w(layer.weight).T + w(layer.bias)
            if i < len(dense) - 1:
                h = np.maximum(h, 0)
        out = out + h
    return out.ravel()


@pytest.mark.parametrize("kind", ["fm", "deepfm"])
def test_folded_logits_match_a_numpy_oracle_and_the_graph(kind):
    net = trained_like(kind)
    X = features(300)
    net_folded = get_spec(kind).fold(net)
    got = net_folded.logits(X, batch_size=128)  # full batches and a short last one
    assert got.dtype == np.float32 and got.shape == (300,)
    np.testing.assert_allclose(got, numpy_logits(net, X, kind), rtol=0, atol=2e-6)
    graph = predict_logits(LogitView(net), X, mx.cpu(), 128)
    np.testing.assert_allclose(got, graph, rtol=0, atol=2e-6)
    probs = net_folded.probabilities(X[:5], batch_size=128)
    np.testing.assert_allclose(probs, 1 / (1 + np.exp(-numpy_logits(net, X[:5], kind))), rtol=0, atol=1e-6)
    assert net_folded.logits(X[:0]).shape == (0,)


def test_folded_refuses_ids_outside_the_table():
    net_folded = get_spec("fm").fold(trained_like("fm"))
    with pytest.raises(DeepFMError, match=r"feature ids must lie in \[0, 35\)"):
        net_folded.logits(np.array([[0, 7, 12, 23, 35]]))


def test_only_fm_and_deepfm_fold_and_only_small_tables(monkeypatch):
    assert {k for k in model_names() if get_spec(k).fold is not None} == {"fm", "deepfm"}
    net = trained_like("deepfm")
    monkeypatch.setattr(folded, "MAX_FOLDED_TABLE_BYTES", 35 * 4)
    assert get_spec("deepfm").fold(net) is None and get_spec("fm").fold(trained_like("fm")) is None
