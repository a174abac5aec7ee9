"""Pieces the model zoo shares: the base of a model over field ids, the
MLP tower, the linear (wide) term and NFM's bi-interaction pooling.

Every model reads global feature ids ``x``: int32 (B, f), field offsets
already added, so one table of ``sum(field_dims)`` rows serves all fields.
Shapes: ``B`` batch, ``f`` fields, ``k`` embedding size; all float32.
"""
from mxnet import init
from mxnet.gluon import nn

from . import kernels


class FieldModel(nn.HybridBlock):
    """A click model over ``field_dims`` categorical fields: subclasses define
    ``logit(F, x)`` (B, 1); the block outputs ``sigmoid(logit)`` and
    ``config()`` its constructor arguments (field_dims included), as the
    registry's contract (models/spec.py) asks."""

    def __init__(self, field_dims, **kwargs):
        super().__init__(**kwargs)
        self.field_dims = tuple(int(d) for d in field_dims)
        self.num_fields = len(self.field_dims)
        self.num_inputs = int(sum(self.field_dims))

    def config(self):
        """Constructor arguments (a JSON-able dict), for saving next to the parameters."""
        return {"field_dims": list(self.field_dims)}

    def hybrid_forward(self, F, x):
        """x: int32 (B, f) feature ids; returns (B, 1) float32 click probability."""
        return F.npx.sigmoid(self.logit(F, x))

    def logit(self, F, x):
        raise NotImplementedError


class EmbeddingModel(FieldModel):
    """A ``FieldModel`` with one (sum(field_dims), k) ``embedding`` table and
    the hyperparameters of DeepFM's deep part: ``num_factors`` (k),
    ``mlp_dims`` (hidden sizes) and ``drop_rate`` (dropout after each
    hidden layer). Subclasses add their towers."""

    def __init__(self, field_dims, num_factors, mlp_dims, drop_rate=0.0, **kwargs):
        super().__init__(field_dims, **kwargs)
        self.num_factors = int(num_factors)
        self.mlp_dims = tuple(int(d) for d in mlp_dims)
        self.drop_rate = float(drop_rate)
        self.embedding = nn.Embedding(self.num_inputs, self.num_factors)

    def config(self):
        return {**super().config(), "num_factors": self.num_factors, "mlp_dims": list(self.mlp_dims),
                "drop_rate": self.drop_rate}

    def embed_flat(self, x):
        """The fields' embeddings side by side: x int32 (B, f) -> (B, f*k)."""
        return self.embedding(x).reshape((-1, self.num_fields * self.num_factors))


class Dropout(nn.Dropout):
    """``nn.Dropout`` that adds no operator at rate 0.

    Gluon's Dropout copies its input when the rate is 0 (``np.copy``: one
    operator forward and one backward per layer and step); the zoo's
    defaults have no dropout, so each of their MLP layers paid for two
    copies (benchmarks/op_counts.py). Same outputs; still an ``nn.Dropout``
    (ONNX export and the folded table skip it), same place in the tower, so
    saved parameter names do not change."""

    def hybrid_forward(self, F, x):
        if self._rate == 0:
            return x
        return super().hybrid_forward(F, x)


def mlp_tower(input_dim, hidden_dims, drop_rate, output_dim=1):
    """DeepFM's MLP: Dense(relu) + Dropout per entry of ``hidden_dims``, then
    Dense(``output_dim``) without activation (None: no output layer, the
    last hidden layer is the output, as DCN-V2's parallel tower)."""
    tower = nn.HybridSequential()
    for dim in hidden_dims:
        tower.add(nn.Dense(dim, "relu", True, in_units=input_dim))
        tower.add(Dropout(rate=drop_rate))
        input_dim = dim
    if output_dim is not None:
        tower.add(nn.Dense(output_dim, in_units=input_dim))
    return tower


def linear_children(num_inputs):
    """The book's linear term as (fc, linear_layer): a (num_inputs, 1) weight
    table w and a Dense(1) over sum_f w_{x_f}, whose bias is the model's
    output bias (the logit when every other parameter is zero)."""
    return nn.Embedding(num_inputs, 1), nn.Dense(1, use_bias=True, in_units=1)


def hold_unit_scale(linear_layer):
    """Hold the Dense(1) weight of ``linear_children`` at 1, untrained. Free,
    it lets an L2 penalty on the weight table leak out: training shrinks the
    table and grows the scale s, so the penalty on the function's weights
    s * w_i is lambda / s^2 of the one asked for, and falls as s grows.
    Held at 1, embedding L2 is plain logistic regression's L2."""
    linear_layer.weight.init = init.One()
    linear_layer.weight.grad_req = "null"


def linear_term(F, fc, linear_layer, x, num_fields):
    """``linear_layer(sum_f w_{x_f})``: (B, 1). x: int32 (B, f) feature ids.
    The sum through BLAS (``kernels.sum_over_columns_blas``): LR's first batch
    compiles no oneDNN kernel."""
    weights = fc(x).reshape((-1, num_fields))
    return linear_layer(kernels.sum_over_columns_blas(F, weights, num_fields))


def bi_interaction(F, embed_flat, num_fields, num_factors):
    """NFM's bi-interaction pooling ``sum_{i<j} e_i * e_j`` (element-wise)
    = 0.5 * ((sum_f e_f)^2 - sum_f e_f^2): (B, f*k) embeddings side by side
    -> (B, k). Both field sums are matrix products (kernels.sum_over_fields)."""
    summed = kernels.sum_over_fields(F, embed_flat, num_fields, num_factors)
    squares = kernels.sum_over_fields(F, embed_flat * embed_flat, num_fields, num_factors)
    return 0.5 * (summed * summed - squares)
