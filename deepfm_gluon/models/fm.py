"""Factorization machine (d2l "Factorization Machines"), as a HybridBlock."""
from mxnet import ndarray
from mxnet.gluon import nn

from .layers import fm_second_order, row_sum, square_norm_sums


class FM(nn.HybridBlock):
    """``sigmoid(linear + FM second order)``, the book's FM.

    Children and parameter names are the book's (``embedding``, ``fc``,
    ``linear_layer``), so its parameter files load here. ``logit`` gives the
    pre-sigmoid score that training feeds to the loss.
    """

    # Up to this many table rows per field, sum_f ||e_f||^2 is gathered from
    # per-row squared norms (one square of the table per batch) rather than
    # squared per example: the table is then smaller than a 2048-batch.
    NORMS_FROM_TABLE_MAX_ROWS_PER_FIELD = 2048

    def __init__(self, field_dims, num_factors, **kwargs):
        super().__init__(**kwargs)
        self.field_dims = tuple(int(d) for d in field_dims)
        self.num_fields = len(self.field_dims)
        self.num_factors = int(num_factors)
        num_inputs = int(sum(self.field_dims))
        self.num_inputs = num_inputs
        self.norms_from_table = num_inputs <= self.NORMS_FROM_TABLE_MAX_ROWS_PER_FIELD * self.num_fields
        self.embedding = nn.Embedding(num_inputs, self.num_factors)
        self.fc = nn.Embedding(num_inputs, 1)
        self.linear_layer = nn.Dense(1, use_bias=True, in_units=1)

    def config(self):
        """Constructor arguments, for saving next to the parameters."""
        return {"field_dims": list(self.field_dims), "num_factors": self.num_factors}

    def _fm_logit(self, F, x):
        """Linear plus second-order term; also returns the flat embeddings."""
        embed = self.embedding(x).reshape((-1, self.num_fields * self.num_factors))
        first = self.fc(x).reshape((-1, self.num_fields))
        linear = self.linear_layer(row_sum(F, first, self.num_fields))
        sum_of_square = None
        if self.norms_from_table:
            table = (self.embedding.weight.data(x.ctx) if F is ndarray
                     else self.embedding.weight.var().as_np_ndarray())
            sum_of_square = square_norm_sums(F, x, table, self.num_inputs, self.num_fields,
                                             self.num_factors)
        second = fm_second_order(F, embed, self.num_fields, self.num_factors, sum_of_square)
        return linear + second, embed

    def logit(self, F, x):
        return self._fm_logit(F, x)[0]

    def hybrid_forward(self, F, x):
        return F.npx.sigmoid(self.logit(F, x))
