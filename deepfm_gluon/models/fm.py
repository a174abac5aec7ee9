"""Factorization machine (d2l "Factorization Machines"), as a HybridBlock."""
from mxnet import ndarray
from mxnet.gluon import nn

from .layers import fm_second_order, linear_and_square_sums, row_sum


class FM(nn.HybridBlock):
    """``sigmoid(linear + FM second order)``, the book's FM.

    Children and parameter names are the book's (``embedding``, ``fc``,
    ``linear_layer``), so its parameter files load here. ``logit`` gives the
    pre-sigmoid score that training feeds to the loss.
    """

    # Up to this many table rows per field, sum_f ||e_f||^2 is gathered from
    # per-row squared norms (one square of the table per batch), together with
    # the linear term, rather than squared per example: the table is then
    # smaller than a batch of 2048.
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
        if self.norms_from_table:
            first_sum, sum_of_square = linear_and_square_sums(
                F, x, _weight(F, self.fc, x), _weight(F, self.embedding, x), self.num_inputs,
                self.num_fields, self.num_factors)
        else:
            first_sum = row_sum(F, self.fc(x).reshape((-1, self.num_fields)), self.num_fields)
            sum_of_square = None
        second = fm_second_order(F, embed, self.num_fields, self.num_factors, sum_of_square)
        return self.linear_layer(first_sum) + second, embed

    def logit(self, F, x):
        return self._fm_logit(F, x)[0]

    def hybrid_forward(self, F, x):
        return F.npx.sigmoid(self.logit(F, x))


def _weight(F, embedding, x):
    """An Embedding child's table inside the parent's graph (eager: the array,
    hybridized: the parameter's variable)."""
    if F is ndarray:
        return embedding.weight.data(x.ctx)
    return embedding.weight.var().as_np_ndarray()
