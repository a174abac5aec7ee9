"""How the FM sums are computed: the speed tricks behind the model files.

The arithmetic is the book's; only the kernels differ, for three reasons:

- The MXNet 1.9.1 pip wheel is built without AVX: an axis reduction such as
  ``np.sum(e, axis=1)`` runs about 20x slower than the same sum written as a
  matrix product (docs/benchmarks.md), and ``e ** 2`` 25x slower than
  ``e * e``. So every sum here is a ``fully_connected`` against a constant
  0/1 matrix.
- While the embedding table is small, ``sum_f ||e_f||^2`` is gathered from
  the table's per-row squared norms, fused with the linear term's gather
  (``linear_term_and_sum_of_squares``), instead of squaring every example.
- Each function takes ``F`` (``mx.ndarray`` eager, ``mx.symbol`` hybridized)
  as Gluon's ``hybrid_forward`` does; the two differ in where constants and
  parameter tables come from (``constant_device``, ``parameter_table``).

Shapes: ``B`` batch, ``f`` fields, ``k`` factors; all float32.
"""
from mxnet import autograd, ndarray

# Up to this many table rows per field, sum_f ||e_f||^2 is gathered from
# per-row squared norms (one square of the table per batch), together with
# the linear term, rather than squared per example: the table is then
# smaller than a batch of 2048.
NORMS_FROM_TABLE_MAX_ROWS_PER_FIELD = 2048


def norms_from_table_pay_off(num_inputs, num_fields):
    """Whether squaring the (num_inputs, k) table per batch is cheaper than
    squaring the (B, f*k) embeddings (see ``linear_term_and_sum_of_squares``)."""
    return num_inputs <= NORMS_FROM_TABLE_MAX_ROWS_PER_FIELD * num_fields


def constant_device(F, like):
    """Eager constants must live on the input's device; symbols carry no context."""
    return {"ctx": like.ctx} if F is ndarray else {}


def parameter_array(F, param, x):
    """A child's Parameter inside the parent's graph (eager: the array on
    ``x``'s device; hybridized: the parameter's variable)."""
    if F is ndarray:
        return param.data(x.ctx)
    return param.var().as_np_ndarray()


def parameter_table(F, embedding, x):
    """An Embedding child's (rows, width) table inside the parent's graph."""
    return parameter_array(F, embedding.weight, x)


def sum_over_fields(F, flat, num_fields, width):
    """Sum of ``num_fields`` blocks of ``width`` columns: (B, f*width) -> (B, width)."""
    selector = F.np.tile(F.np.eye(width, dtype="float32", **constant_device(F, flat)), (1, num_fields))
    return F.npx.fully_connected(flat, selector, num_hidden=width, no_bias=True)


def sum_over_columns(F, mat, width):
    """Sum over the columns of a (B, width) matrix, keeping dims: (B, 1)."""
    ones = F.np.ones((1, width), dtype="float32", **constant_device(F, mat))
    return F.npx.fully_connected(mat, ones, num_hidden=1, no_bias=True)


def sum_over_columns_blas(F, mat, width):
    """``sum_over_columns`` as a product with a ones column through ``np.dot``
    (OpenBLAS), not oneDNN: as fast here, rounded its own way (within a few
    float32 ulps), and nothing to compile. oneDNN compiles its GEMM kernels
    at their first use in a process, ~30 ms on this machine: a model whose
    only other product is 1x1 (LR) would pay that at its first batch for
    this sum alone (docs/benchmarks.md, "Book-size step, round four")."""
    ones = F.np.ones((width, 1), dtype="float32", **constant_device(F, mat))
    return F.np.dot(mat, ones)


def square_of_sum(F, embed_x, num_fields, num_factors, summed=None):
    """``sum_k (sum_f e_fk)^2``: (B, f*k) embeddings side by side -> (B, 1).
    ``summed``: their (B, k) sum over fields, when the caller has it already."""
    if summed is None:
        summed = sum_over_fields(F, embed_x, num_fields, num_factors)
    return sum_over_columns(F, summed * summed, num_factors)


def first_layer_and_sum_over_fields(F, dense, embed_x, num_fields, num_factors):
    """``(dense(embed_x), sum_over_fields(embed_x))``: a Dense layer over the
    (B, f*k) embeddings (DeepFM's first MLP layer) and their (B, k) field
    sum, from ONE matrix product while training.

    Both are products of the same (B, f*k) embeddings: the layer's weight
    (h, f*k) and the 0/1 field-sum selector (k, f*k). On this wheel the thin
    selector product costs two thirds of a product with h + k outputs
    (oneDNN is bound by passing over the embeddings, not by the arithmetic:
    docs/benchmarks.md, "Book-size step, round four"), so the selector rows
    are put under the weight (with zero bias) and the one (B, h + k) output
    is sliced. The same outputs bit for bit; the embeddings' gradient too at
    training's batch sizes (2048 to 8192 checked), and within one float
    rounding (<= 2.4e-7) for small batches, where the one product sums what
    the two products' gradients add (tests/models/test_kernels.py).
    Prediction (not recording) keeps the two products: the inference graph
    fuses the layer with its activation (models/inference.py).
    """
    if not autograd.is_recording():
        return dense(embed_x), sum_over_fields(F, embed_x, num_fields, num_factors)
    device = constant_device(F, embed_x)
    units = dense.weight.shape[0]
    selector = F.np.tile(F.np.eye(num_factors, dtype="float32", **device), (1, num_fields))
    weight = F.np.concatenate([parameter_array(F, dense.weight, embed_x), selector], axis=0)
    bias = F.np.concatenate([parameter_array(F, dense.bias, embed_x),
                             F.np.zeros((num_factors,), dtype="float32", **device)], axis=0)
    both = F.npx.fully_connected(embed_x, weight, bias, num_hidden=units + num_factors)
    hidden = F.npx.slice(both, begin=(None, 0), end=(None, units))
    summed = F.npx.slice(both, begin=(None, units), end=(None, units + num_factors))
    return (dense.act(hidden) if dense.act is not None else hidden), summed


def after_first_layer(sequential, hidden):
    """The layers of ``sequential`` after its first, applied to ``hidden``."""
    for i in range(1, len(sequential)):
        hidden = sequential[i](hidden)
    return hidden


def sum_of_squares(F, embed_x, num_fields, num_factors):
    """``sum_f sum_k e_fk^2``, squaring every example: (B, f*k) -> (B, 1)."""
    return sum_over_columns(F, embed_x * embed_x, num_fields * num_factors)


def linear_term_and_sum_of_squares(F, fm, x, embed_x):
    """``fm``'s (sum_f w_{x_f}, sum_f ||e_{x_f}||^2), each (B, 1): the book's
    ``self.fc(x).sum(1)`` and ``np.sum(embed_x ** 2, axis=1)`` summed over k.

    ``fm``: an FM (children ``fc``, ``embedding``); ``x``: int32 (B, f)
    feature indices; ``embed_x``: their (B, f*k) embeddings side by side.
    Takes the way that is faster for the table's size (``fm.norms_from_table``).
    """
    if fm.norms_from_table:
        return linear_term_and_sum_of_squares_from_norms(
            F, x, parameter_table(F, fm.fc, x), parameter_table(F, fm.embedding, x), fm.num_inputs,
            fm.num_fields, fm.num_factors)
    linear = sum_over_columns(F, fm.fc(x).reshape((-1, fm.num_fields)), fm.num_fields)
    return linear, sum_of_squares(F, embed_x, fm.num_fields, fm.num_factors)


def linear_term_and_sum_of_squares_from_norms(F, x, fc_table, embed_table, num_inputs, num_fields,
                                              num_factors):
    """(sum_f w_{x_f}, sum_f ||e_{x_f}||^2), each (B, 1), from one gather.

    ``x``: int32 (B, f) feature indices; ``fc_table`` (rows, 1) and
    ``embed_table`` (rows, k) are the parameter tables. sum_k e_fk^2 is the
    squared norm of embedding row x_f: one number per table row, like the
    linear weight w_{x_f}. So the table is squared once per batch, put
    beside the linear weights as a (rows, 2) table, and one gather plus one
    matrix product give both sums. This replaces the (B, f*k) square, its
    row sum, the linear term's own gather and their backward; worth it while
    ``norms_from_table_pay_off``.
    """
    norms = sum_over_columns(F, embed_table * embed_table, num_factors)
    table = F.np.concatenate([fc_table, norms], axis=1)
    both = F.npx.embedding(x, table, input_dim=num_inputs, output_dim=2)
    sums = sum_over_fields(F, both.reshape((-1, num_fields * 2)), num_fields, 2)
    return (F.npx.slice(sums, begin=(None, 0), end=(None, 1)),
            F.npx.slice(sums, begin=(None, 1), end=(None, 2)))


def cin_interaction(F, x0, xk, weight, width_in, width_out):
    """One CIN layer's compressed interaction, without its outer product.

    ``x0``: (R, m) the base embeddings and ``xk``: (R, H) the previous layer,
    one row per (example, embedding dimension); ``weight``: (H' * H, m),
    read as W[h', j, i]. Returns (R, H'):
    ``out[r, h'] = sum_j sum_i W[h', j, i] * xk[r, j] * x0[r, i]``.

    The paper's way (and FuxiCTR's) materializes the (R, m*H) outer product
    and compresses it with a 1x1 convolution. Here the weight is first
    applied to x0 (one matrix product, (R, H'*H)), then each row's (H', H)
    block is multiplied by xk's row (``batch_dot``): the same numbers, and on
    the no-AVX wheel forward+backward of the broadcast outer product took
    3.6 s against 0.26 s this way (B=2048, m=34, k=10, H=H'=16; the
    broadcast's backward reduction is the slow part).
    """
    projected = F.npx.fully_connected(x0, weight, num_hidden=width_out * width_in, no_bias=True)
    out = F.npx.batch_dot(projected.reshape((-1, width_out, width_in)), xk.reshape((-1, width_in, 1)))
    return out.reshape((-1, width_out))
