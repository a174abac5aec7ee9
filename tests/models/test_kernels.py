"""Each function of models/kernels.py equals its plain-numpy formula, eager
(F = mx.ndarray) and inside a hybridized graph (F = mx.symbol)."""
import mxnet as mx
import numpy as onp
import pytest
from mxnet import np, npx
from mxnet.gluon import nn

from deepfm_gluon.models import FM, build_model, kernels

B, NUM_FIELDS, K = 7, 4, 3
FIELD_DIMS = [5, 9, 3, 12]


@pytest.fixture(autouse=True)
def numpy_mode():
    npx.set_np()


def _rng(seed=0):
    return onp.random.default_rng(seed)


class _Apply(nn.HybridBlock):
    """Runs ``fn(F, *inputs)`` eagerly or, hybridized, as a symbol graph."""

    def __init__(self, fn, **kwargs):
        super().__init__(**kwargs)
        self.fn = fn

    def hybrid_forward(self, F, *inputs):
        return self.fn(F, *inputs)


def _run(fn, hybridize, *arrays):
    block = _Apply(fn)
    if hybridize:
        block.hybridize()
    out = block(*[np.array(a) for a in arrays])
    return [o.asnumpy() for o in out] if isinstance(out, (list, tuple)) else out.asnumpy()


@pytest.mark.parametrize("hybridize", [False, True])
def test_sum_over_fields_is_the_sum_of_the_field_blocks(hybridize):
    flat = _rng().normal(size=(B, NUM_FIELDS * K)).astype("float32")
    got = _run(lambda F, a: kernels.sum_over_fields(F, a, NUM_FIELDS, K), hybridize, flat)
    onp.testing.assert_allclose(got, flat.reshape(B, NUM_FIELDS, K).sum(axis=1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("hybridize", [False, True])
def test_sum_over_columns_is_a_row_sum_keeping_dims(hybridize):
    mat = _rng(1).normal(size=(B, 11)).astype("float32")
    got = _run(lambda F, a: kernels.sum_over_columns(F, a, 11), hybridize, mat)
    onp.testing.assert_allclose(got, mat.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("hybridize", [False, True])
def test_square_of_sum_and_sum_of_squares(hybridize):
    embed = _rng(2).normal(size=(B, NUM_FIELDS, K)).astype("float32")
    flat = embed.reshape(B, -1)
    sos = _run(lambda F, a: kernels.square_of_sum(F, a, NUM_FIELDS, K), hybridize, flat)
    ssq = _run(lambda F, a: kernels.sum_of_squares(F, a, NUM_FIELDS, K), hybridize, flat)
    e = embed.astype("float64")
    onp.testing.assert_allclose(sos, (e.sum(axis=1) ** 2).sum(axis=1, keepdims=True), rtol=1e-5)
    onp.testing.assert_allclose(ssq, (e ** 2).sum(axis=(1, 2))[:, None], rtol=1e-5)
    # Their half difference is the sum over field pairs of inner products.
    pairs = sum((e[:, i] * e[:, j]).sum(axis=1) for i in range(NUM_FIELDS) for j in range(i + 1, NUM_FIELDS))
    onp.testing.assert_allclose(0.5 * (sos - ssq).ravel(), pairs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("hybridize", [False, True])
def test_linear_term_and_sum_of_squares_from_norms_is_one_gather_of_both(hybridize):
    rng = _rng(3)
    rows = sum(FIELD_DIMS)
    fc = rng.normal(size=(rows, 1)).astype("float32")
    emb = rng.normal(size=(rows, K)).astype("float32")
    offsets = onp.concatenate([[0], onp.cumsum(FIELD_DIMS)[:-1]])
    x = (rng.integers(0, FIELD_DIMS, (B, NUM_FIELDS)) + offsets).astype("int32")
    linear, ssq = _run(lambda F, xi, f, e: kernels.linear_term_and_sum_of_squares_from_norms(
        F, xi, f, e, rows, NUM_FIELDS, K), hybridize, x, fc, emb)
    onp.testing.assert_allclose(linear, fc[x, 0].sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
    onp.testing.assert_allclose(ssq, (emb[x].astype("float64") ** 2).sum(axis=(1, 2))[:, None], rtol=1e-5)


@pytest.mark.parametrize("hybridize", [False, True])
@pytest.mark.parametrize("from_table", [True, False])
def test_both_ways_to_the_linear_term_and_sum_of_squares_of_a_model(from_table, hybridize):
    net = FM(FIELD_DIMS, K)
    net.initialize(mx.init.Normal(0.5))
    net.norms_from_table = from_table
    offsets = onp.concatenate([[0], onp.cumsum(FIELD_DIMS)[:-1]])
    x = (_rng(4).integers(0, FIELD_DIMS, (B, NUM_FIELDS)) + offsets).astype("int32")
    net(np.array(x))  # parameters exist

    class Sums(nn.HybridBlock):
        def __init__(self, fm, **kwargs):
            super().__init__(**kwargs)
            self.fm = fm

        def hybrid_forward(self, F, xi):
            embed_x = self.fm.embedding(xi).reshape((-1, NUM_FIELDS * K))
            return kernels.linear_term_and_sum_of_squares(F, self.fm, xi, embed_x)

    block = Sums(net)
    if hybridize:
        block.hybridize()
    linear, ssq = [o.asnumpy() for o in block(np.array(x))]
    fc = net.fc.weight.data().asnumpy()
    emb = net.embedding.weight.data().asnumpy().astype("float64")
    onp.testing.assert_allclose(linear, fc[x, 0].sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
    onp.testing.assert_allclose(ssq, (emb[x] ** 2).sum(axis=(1, 2))[:, None], rtol=1e-5, atol=1e-6)


def test_parameter_table_is_the_embedding_weight():
    net = FM(FIELD_DIMS, K)
    net.initialize()
    x = np.zeros((2, NUM_FIELDS), dtype="int32")
    onp.testing.assert_array_equal(kernels.parameter_table(mx.ndarray, net.embedding, x).asnumpy(),
                                   net.embedding.weight.data().asnumpy())


def test_norms_from_table_while_the_table_is_small():
    assert kernels.norms_from_table_pay_off(kernels.NORMS_FROM_TABLE_MAX_ROWS_PER_FIELD * 3, 3)
    assert not kernels.norms_from_table_pay_off(kernels.NORMS_FROM_TABLE_MAX_ROWS_PER_FIELD * 3 + 1, 3)
    assert build_model("deepfm", [10] * 34).norms_from_table
    assert not build_model("fm", [100_000, 5]).norms_from_table


@pytest.mark.parametrize("hybridize", [False, True])
def test_cin_interaction_is_the_compressed_outer_product(hybridize):
    """out[r, c] = sum_j sum_i W[c, j, i] xk[r, j] x0[r, i], without the outer product."""
    rng = _rng(4)
    rows, fields, width_in, width_out = 11, 4, 3, 5
    x0, xk = rng.normal(size=(rows, fields)), rng.normal(size=(rows, width_in))
    weight = rng.normal(size=(width_out * width_in, fields))
    expected = onp.einsum("cji,rj,ri->rc", weight.reshape(width_out, width_in, fields), xk, x0)
    got = _run(lambda F, a, b, w: kernels.cin_interaction(F, a, b, w, width_in, width_out), hybridize,
               x0.astype("float32"), xk.astype("float32"), weight.astype("float32"))
    onp.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


class _FirstLayer(nn.HybridBlock):
    """A Dense over (B, f*k) embeddings and their field sum, fused or as two products."""

    def __init__(self, fused, **kwargs):
        super().__init__(**kwargs)
        self.fused = fused
        self.dense = nn.Dense(5, "relu", in_units=NUM_FIELDS * K)

    def hybrid_forward(self, F, e):
        if self.fused:
            hidden, summed = kernels.first_layer_and_sum_over_fields(F, self.dense, e, NUM_FIELDS, K)
        else:
            hidden, summed = self.dense(e), kernels.sum_over_fields(F, e, NUM_FIELDS, K)
        return hidden.sum(axis=1) * 0.5 + (summed * summed).sum(axis=1)


@pytest.mark.parametrize("hybridize", [False, True])
def test_first_layer_and_sum_over_fields_is_the_two_products_bit_for_bit(hybridize):
    """Training (recording) takes one product for both; outputs and every
    gradient equal the two separate products exactly (B = 2048, the book's
    shape, where oneDNN's kernels are the ones training uses)."""
    rng = _rng(5)
    e = rng.normal(size=(2048, NUM_FIELDS * K)).astype("float32")
    results = []
    for fused in (False, True):
        block = _FirstLayer(fused)
        block.initialize(mx.init.Xavier())
        block.dense.weight.set_data(np.array(rng.normal(size=(5, NUM_FIELDS * K)) if not results else weights[0]))
        block.dense.bias.set_data(np.array(rng.normal(size=5)) if not results else weights[1])
        weights = (block.dense.weight.data().copy(), block.dense.bias.data().copy())
        if hybridize:
            block.hybridize(static_alloc=True, static_shape=True)
        x = np.array(e)
        x.attach_grad()
        with mx.autograd.record():
            out = block(x)
        out.backward()
        results.append([out.asnumpy(), x.grad.asnumpy(), block.dense.weight.grad().asnumpy(),
                        block.dense.bias.grad().asnumpy()])
        predicted = block(x).asnumpy()  # not recording: the two products
        onp.testing.assert_array_equal(predicted, results[-1][0])
    for a, b in zip(*results):
        onp.testing.assert_array_equal(a, b)
    hidden = onp.maximum(e @ weights[0].asnumpy().T + weights[1].asnumpy(), 0)
    summed = e.reshape(-1, NUM_FIELDS, K).sum(axis=1)
    onp.testing.assert_allclose(results[1][0], hidden.sum(1) * 0.5 + (summed * summed).sum(1), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("hybridize", [False, True])
def test_sum_over_columns_blas_is_a_row_sum_keeping_dims(hybridize):
    mat = _rng(6).normal(size=(B, 11)).astype("float32")
    got = _run(lambda F, a: kernels.sum_over_columns_blas(F, a, 11), hybridize, mat)
    onp.testing.assert_allclose(got, mat.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)
