"""Shared pieces of the FM family, written as hybridizable functions of F.

The MXNet 1.9.1 pip wheel is built without AVX: axis reductions such as
``np.sum(e, axis=1)`` run about 20x slower than the same sum written as a
matrix product (see docs/benchmarks.md), and ``e ** 2`` is 25x slower than
``e * e``. So every sum here is a ``fully_connected`` against a constant
0/1 matrix. The arithmetic is the book's; only the kernels differ.
"""
from mxnet import ndarray


def _const_kwargs(F, like):
    """Eager constants must live on the input's device; symbols carry no context."""
    return {"ctx": like.ctx} if F is ndarray else {}


def field_sum(F, flat, num_fields, width):
    """Sum of ``num_fields`` blocks of ``width`` columns: (B, F*w) -> (B, w)."""
    kw = _const_kwargs(F, flat)
    selector = F.np.tile(F.np.eye(width, dtype="float32", **kw), (1, num_fields))
    return F.npx.fully_connected(flat, selector, num_hidden=width, no_bias=True)


def row_sum(F, mat, width):
    """Sum over the columns of a (B, width) matrix, keeping dims: (B, 1)."""
    kw = _const_kwargs(F, mat)
    ones = F.np.ones((1, width), dtype="float32", **kw)
    return F.npx.fully_connected(mat, ones, num_hidden=1, no_bias=True)


def fm_second_order(F, flat_embed, num_fields, num_factors, sum_of_square=None):
    """FM pairwise term by the square-of-sum trick:
    0.5 * sum_k[(sum_f e_fk)^2 - sum_f e_fk^2], shape (B, 1).

    ``sum_of_square`` (B, 1), when given, is the second sum computed another
    way (see ``square_norm_sums``)."""
    summed = field_sum(F, flat_embed, num_fields, num_factors)
    square_of_sum = row_sum(F, summed * summed, num_factors)
    if sum_of_square is None:
        sum_of_square = row_sum(F, flat_embed * flat_embed, num_fields * num_factors)
    return 0.5 * (square_of_sum - sum_of_square)


def linear_and_square_sums(F, x, fc_table, embed_table, num_inputs, num_fields, num_factors):
    """(sum_f w_{x_f}, sum_f ||e_f||^2), each (B, 1), from one gather.

    sum_k e_fk^2 is the squared norm of embedding row x_f: one number per
    table row, like the linear weight w_{x_f}. So the (rows, k) table is
    squared once per batch, put beside the linear weights as a (rows, 2)
    table, and one gather plus one matrix product give both sums. This
    replaces the (B, F*k) square, its row sum, the linear term's own gather
    and their backward. Worth it while the table has fewer rows than a batch
    has cells (see ``FM.norms_from_table``).
    """
    norms = row_sum(F, embed_table * embed_table, num_factors)
    table = F.np.concatenate([fc_table, norms], axis=1)
    both = F.npx.embedding(x, table, input_dim=num_inputs, output_dim=2)
    sums = field_sum(F, both.reshape((-1, num_fields * 2)), num_fields, 2)
    return (F.npx.slice(sums, begin=(None, 0), end=(None, 1)),
            F.npx.slice(sums, begin=(None, 1), end=(None, 2)))
