"""The models against a plain-numpy reference that computes the FM term by the
explicit double loop over field pairs, and against the book's own Block."""
import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, init, np, npx
from mxnet.gluon import nn

from deepfm_gluon import FM, DeepFM
from deepfm_gluon.bench.tasks import _copy_params
from deepfm_gluon.gluon_compat import has_cached_graph, params_by_structural_name
from deepfm_gluon.models import LogitView, build_model
from deepfm_gluon.reference import BookDeepFM, BookFM

FIELD_DIMS = [3, 5, 2, 7, 4, 6]


def random_inputs(field_dims, n, seed=0):
    rng = onp.random.default_rng(seed)
    offsets = onp.concatenate([[0], onp.cumsum(field_dims)[:-1]])
    return onp.stack([rng.integers(0, d, n) for d in field_dims], axis=1) + offsets


def randomize(net, seed=0):
    rng = onp.random.default_rng(seed)
    for p in net.collect_params().values():
        p.set_data(np.array(rng.normal(0, 0.5, p.shape).astype("float32")))


def reference_logit(params, x, mlp_layers=()):
    """Linear term + sum over field pairs i<j of <v_i, v_j> + MLP, in numpy."""
    emb, fc = params["embedding.weight"], params["fc.weight"]
    w, b = params["linear_layer.weight"][0, 0], params["linear_layer.bias"][0]
    out = []
    for row in x:
        linear = w * fc[row, 0].sum() + b
        pairs = sum(emb[row[i]] @ emb[row[j]] for i in range(len(row)) for j in range(i + 1, len(row)))
        hidden = emb[row].reshape(-1)
        for k, (weight, bias) in enumerate(mlp_layers):
            hidden = weight @ hidden + bias
            if k < len(mlp_layers) - 1:
                hidden = onp.maximum(hidden, 0)
        out.append(linear + pairs + (hidden[0] if mlp_layers else 0.0))
    return onp.array(out)


def numpy_params(net):
    return {name: p.data().asnumpy().astype(onp.float64) for name, p in params_by_structural_name(net).items()}


@pytest.mark.parametrize("hybridize", [False, True])
@pytest.mark.parametrize("kind", ["fm", "deepfm"])
def test_matches_double_loop_reference(kind, hybridize):
    net = FM(FIELD_DIMS, 4) if kind == "fm" else DeepFM(FIELD_DIMS, 4, [8, 5])
    net.initialize()
    x = random_inputs(FIELD_DIMS, 32)
    net(np.array(x, dtype="int32"))
    randomize(net)
    if hybridize:
        net.hybridize(static_alloc=True, static_shape=True)
    params = numpy_params(net)
    layers = []
    if kind == "deepfm":
        dense = [i for i in range(len(net.mlp)) if isinstance(net.mlp[i], nn.Dense)]
        layers = [(params[f"mlp.{i}.weight"], params[f"mlp.{i}.bias"]) for i in dense]
    expected = 1 / (1 + onp.exp(-reference_logit(params, x, layers)))
    got = net(np.array(x, dtype="int32")).asnumpy().ravel()
    onp.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    logits = net.logit(mx.ndarray, np.array(x, dtype="int32"))
    onp.testing.assert_allclose(logits.asnumpy().ravel(), reference_logit(params, x, layers), rtol=1e-5, atol=1e-4)


def test_hybridize_takes_effect():
    net = DeepFM(FIELD_DIMS, 4, [8])
    net.initialize()
    net.hybridize()
    net(np.array(random_inputs(FIELD_DIMS, 4), dtype="int32"))
    assert has_cached_graph(net), "hybridize() did not build a cached graph"


@pytest.mark.parametrize("kind", ["fm", "deepfm"])
def test_book_parameter_file_loads_and_gives_same_outputs(kind, tmp_path):
    field_dims = [40] * 34
    book = BookFM(field_dims, 20) if kind == "fm" else BookDeepFM(field_dims, 10, [30, 20, 10])
    ours = FM(field_dims, 20) if kind == "fm" else DeepFM(field_dims, 10, [30, 20, 10])
    book.initialize(init.Xavier())
    x = np.array(random_inputs(field_dims, 256, seed=1), dtype="int32")
    expected = book(x).asnumpy()
    book.save_parameters(str(tmp_path / "book.params"))
    ours.load_parameters(str(tmp_path / "book.params"))
    assert list(params_by_structural_name(ours)) == list(params_by_structural_name(book))
    onp.testing.assert_allclose(ours(x).asnumpy(), expected, atol=1e-5)
    ours.hybridize(static_alloc=True, static_shape=True)
    onp.testing.assert_allclose(ours(x).asnumpy(), expected, atol=1e-5)


def test_book_defaults_and_children():
    net = DeepFM([10] * 34, num_factors=10, mlp_dims=[30, 20, 10])
    assert net.drop_rate == 0.1
    assert net.embedding.weight.shape == (340, 10) and net.fc.weight.shape == (340, 1)
    kinds = [type(b).__name__ for b in net.mlp]
    assert kinds == ["Dense", "Dropout"] * 3 + ["Dense"]


def test_package_matches_the_book_block_exactly():
    """Same weights: the hybridized package DeepFM gives the book Block's
    probabilities (axis sums vs matrix products) within 1e-5."""
    npx.set_np()
    field_dims = [3, 7, 5, 11, 2]
    ours = build_model("deepfm", field_dims)
    ours.initialize(init.Xavier(), ctx=mx.cpu())
    book = BookDeepFM(field_dims, num_factors=10, mlp_dims=[30, 20, 10])
    book.initialize(init.Xavier(), ctx=mx.cpu())
    _copy_params(ours, book)
    rng = onp.random.default_rng(0)
    offsets = onp.concatenate([[0], onp.cumsum(field_dims)[:-1]])
    X = (rng.integers(0, field_dims, (513, len(field_dims))) + offsets).astype(onp.int32)
    x = np.array(X, dtype=onp.int32)
    expected = book(x).asnumpy()
    eager = ours(x).asnumpy()
    ours.hybridize(static_alloc=True, static_shape=True)
    hybrid = ours(x).asnumpy()
    assert onp.abs(eager - expected).max() < 1e-5
    assert onp.abs(hybrid - expected).max() < 1e-5


@pytest.mark.parametrize("kind", ["deepfm", "fm"])
def test_table_norms_and_fused_linear_gather_match_the_book_arithmetic(kind):
    """Both ways to compute sum_f ||e_f||^2 give the same outputs and gradients."""
    npx.set_np()
    field_dims = [5, 9, 3, 12]
    nets = []
    for from_table in (True, False):
        mx.random.seed(3)
        net = build_model(kind, field_dims)
        net.initialize(init.Xavier(), ctx=mx.cpu())
        net.norms_from_table = from_table
        nets.append(net)
    assert nets[0].norms_from_table is True and nets[1].norms_from_table is False
    X = onp.random.default_rng(1).integers(0, 3, (300, 4)) + onp.array([0, 5, 14, 17])
    x = np.array(X, dtype=onp.int32)
    outs, grads = [], []
    for net in nets:
        view = LogitView(net)
        view.hybridize(static_alloc=True, static_shape=True)
        with autograd.record(train_mode=False):
            logits = view(x)
        logits.backward()
        outs.append(net(x).asnumpy())
        grads.append(onp.concatenate([net.embedding.weight.grad().asnumpy().ravel(),
                                     net.fc.weight.grad().asnumpy().ravel(),
                                     net.linear_layer.weight.grad().asnumpy().ravel()]))
    onp.testing.assert_allclose(outs[0], outs[1], atol=1e-5)
    onp.testing.assert_allclose(grads[0], grads[1], atol=1e-4, rtol=1e-4)
