"""Logistic regression over one-hot fields: the linear part of FM alone,
the first baseline of every CTR comparison."""
from . import onnx_layers
from .layers import FieldModel, hold_unit_scale, linear_children, linear_term
from .spec import Choice, FloatRange, ModelSpec


class LR(FieldModel):
    """``sigmoid(b + w * sum_f w_{x_f})``: one weight per feature value.

    ``field_dims``: rows per field. Children are the book's linear term
    (``fc``: the (sum(field_dims), 1) weight table; ``linear_layer``:
    Dense(1), whose bias is the intercept), as in the book's FM, so an FM's
    linear part and this one are the same function. The scale w is held
    at 1 (layers.hold_unit_scale): free, it let the tuned embedding L2
    leak out (w grew, the penalty on w * w_x fell) and LR trailed
    scikit-learn's logistic regression; held, this is FuxiCTR's
    LogisticRegression and scikit-learn's model with the same L2.
    """

    def __init__(self, field_dims, **kwargs):
        super().__init__(field_dims, **kwargs)
        self.fc, self.linear_layer = linear_children(self.num_inputs)
        hold_unit_scale(self.linear_layer)

    def logit(self, F, x):
        """x: int32 (B, f) feature ids; returns (B, 1) float32."""
        return linear_term(F, self.fc, self.linear_layer, x, self.num_fields)


def onnx_logit(net, graph):
    """LR's logit as an ONNX graph (models/onnx_layers.py): (batch, 1)."""
    return onnx_layers.linear_term(graph, net.fc, net.linear_layer)


MODEL = ModelSpec(
    name="lr", block=LR,
    description="Logistic regression (one weight per feature value): the linear part of FM alone, "
                "the first baseline of CTR comparisons (e.g. Rendle, ICDM 2010, eq. 1 without pairs)",
    hyperparameters=(), lr=0.03, tables=("fc",), output_bias="linear_layer.bias", onnx=onnx_logit,
    search_space={"lr": FloatRange(1e-4, 1e-1, log=True), "embedding_l2": FloatRange(1e-8, 1e-1, log=True),
                  "batch_size": Choice((256, 512, 1024, 2048, 4096))})
