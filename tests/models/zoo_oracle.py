"""What every zoo model's test does with its plain-numpy reference: random
parameters, the forward pass (logit and probability) eager and hybridized
against the reference, computed in float64 from the paper's formula that the
test file writes out."""
import mxnet as mx
import pytest
import numpy as onp
from mxnet import init, np, npx

from deepfm_gluon.gluon_compat import has_cached_graph, params_by_structural_name
from deepfm_gluon.models import LogitView, build_model

FIELD_DIMS = [3, 5, 2, 7, 4, 6]


def random_inputs(field_dims, n, seed=0):
    """int (n, f) global feature ids (field offsets added)."""
    rng = onp.random.default_rng(seed)
    offsets = onp.concatenate([[0], onp.cumsum(field_dims)[:-1]])
    return onp.stack([rng.integers(0, d, n) for d in field_dims], axis=1) + offsets


def random_model(kind, field_dims=FIELD_DIMS, seed=0, scale=0.4, **overrides):
    """The registered model ``kind`` with every parameter drawn from N(0, scale^2)."""
    npx.set_np()
    net = build_model(kind, field_dims, **overrides)
    net.initialize(init.Xavier(), ctx=mx.cpu())
    net(np.array(random_inputs(field_dims, 2), dtype="int32"))
    rng = onp.random.default_rng(seed)
    for p in net.collect_params().values():
        p.set_data(np.array(rng.normal(0, scale, p.shape).astype("float32")))
    return net


def numpy_params(net):
    """{structural name: float64 array}, e.g. 'embedding.weight'."""
    return {name: p.data().asnumpy().astype(onp.float64) for name, p in params_by_structural_name(net).items()}


def dense(params, name, h, relu=False):
    """Gluon's Dense: h @ W^T + b (W is (out, in)); no bias if the model has none."""
    out = h @ params[f"{name}.weight"].T + params.get(f"{name}.bias", 0.0)
    return onp.maximum(out, 0) if relu else out


def mlp(params, prefix, h, hidden_layers, output=True):
    """DeepFM's tower: Dense(relu) (+ Dropout, the identity when predicting)
    per hidden layer at children 0, 2, 4, ..., then Dense(1) without activation."""
    for i in range(hidden_layers):
        h = dense(params, f"{prefix}.{2 * i}", h, relu=True)
    return dense(params, f"{prefix}.{2 * hidden_layers}", h) if output else h


def linear(params, x):
    """The book's linear term: w * sum_f fc[x_f] + b, (B,)."""
    return params["linear_layer.weight"][0, 0] * params["fc.weight"][x, 0].sum(axis=1) \
        + params["linear_layer.bias"][0]


def check_forward(net, reference_logit, x, atol=1e-4):
    """``net``'s logit and probability equal ``reference_logit(params, x)``
    ((B,) float64), eagerly and hybridized (the logit through LogitView, as
    training computes it)."""
    params = numpy_params(net)
    expected = onp.asarray(reference_logit(params, x), dtype=onp.float64).reshape(-1)
    xs = np.array(x, dtype="int32")
    eager_logits, eager_probs = net.logit(mx.ndarray, xs), net(xs)
    view = LogitView(net)
    view.hybridize(static_alloc=True, static_shape=True)
    net.hybridize(static_alloc=True, static_shape=True)
    hybrid_logits, hybrid_probs = view(xs), net(xs)
    assert has_cached_graph(net) and has_cached_graph(view)
    for logits in (eager_logits, hybrid_logits):
        onp.testing.assert_allclose(logits.asnumpy().ravel(), expected, rtol=1e-4, atol=atol)
    for probs in (eager_probs, hybrid_probs):
        onp.testing.assert_allclose(probs.asnumpy().ravel(), 1 / (1 + onp.exp(-expected)), rtol=1e-4, atol=atol)


def check_onnx(net, kind, x, atol=1e-5):
    """The model's ONNX graph (serving/export_onnx.py with its MODEL.onnx), run
    by ONNX Runtime, gives the net's probabilities within ``atol``, also for a
    batch of one row (the batch dimension is dynamic)."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from deepfm_gluon.serving.export_onnx import net_to_onnx

    session = ort.InferenceSession(net_to_onnx(net, kind).SerializeToString(), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    expected = net(np.array(x, dtype="int32")).asnumpy()
    for rows in (slice(None), slice(0, 1)):
        got = session.run(None, {inp.name: onp.asarray(x[rows], dtype=onp.int64)})[0]
        assert got.shape == expected[rows].shape
        onp.testing.assert_allclose(got, expected[rows], rtol=0, atol=atol)


def check_sparse_training(kind, split, epochs=3, **overrides):
    """``--sparse`` training (row-sparse table updates through the spec's
    tables, training/sparse.py) of ``kind`` on ``split`` lowers the
    training loss epoch after epoch and ends better than chance on test."""
    from deepfm_gluon.experiments.runner import train_model
    from deepfm_gluon.training.config import TrainConfig

    config = TrainConfig(epochs=epochs, batch_size=256, lr=0.01, sparse=True, progress=False)
    _, history, _ = train_model(kind, split, config, model_overrides=overrides, log=None)
    losses = [record["train_loss"] for record in history.epochs]
    assert history.config["sparse"] is True
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses
    assert history.last()["test_auc"] > 0.6, history.last()
