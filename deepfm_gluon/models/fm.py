"""Factorization machine (d2l "Factorization Machines"), as a HybridBlock.

Read beside the book's ``FM.forward``: the same linear term and the same
interaction, 0.5 * (square of the sum - sum of the squares). How each sum
is computed fast lives in ``kernels``.
"""
from mxnet.gluon import nn

from . import folded, kernels, onnx_layers
from ..limits import MAX_FACTORS
from .spec import Choice, FloatRange, Hyperparameter, ModelSpec


class FM(nn.HybridBlock):
    """``sigmoid(linear + FM interaction)``, the book's FM.

    ``field_dims``: rows per field (the one embedding table has their sum);
    ``num_factors``: embedding size k. Children and parameter names are the
    book's (``embedding``, ``fc``, ``linear_layer``), so its parameter files
    load here.
    """

    def __init__(self, field_dims, num_factors, **kwargs):
        super().__init__(**kwargs)
        self.field_dims = tuple(int(d) for d in field_dims)
        self.num_fields = len(self.field_dims)
        self.num_factors = int(num_factors)
        self.num_inputs = num_inputs = int(sum(self.field_dims))
        self.norms_from_table = kernels.norms_from_table_pay_off(num_inputs, self.num_fields)
        self.embedding = nn.Embedding(num_inputs, self.num_factors)
        self.fc = nn.Embedding(num_inputs, 1)
        self.linear_layer = nn.Dense(1, use_bias=True, in_units=1)

    def config(self):
        """Constructor arguments (a JSON-able dict), for saving next to the parameters."""
        return {"field_dims": list(self.field_dims), "num_factors": self.num_factors}

    def hybrid_forward(self, F, x):
        """x: int32 (batch, num_fields) feature indices; returns (batch, 1)
        float32 click probability."""
        return F.npx.sigmoid(self.logit(F, x))

    def logit(self, F, x):
        """The score before the sigmoid, which training feeds to the loss.
        x: int32 (batch, num_fields) feature indices; returns (batch, 1) float32."""
        embed_x = self.embedding(x).reshape((-1, self.num_fields * self.num_factors))
        return self.fm_logit(F, x, embed_x)

    def fm_logit(self, F, x, embed_x, field_sum=None):
        """Linear term plus FM interaction: (batch, 1) float32.
        x: int32 (batch, num_fields) feature indices; embed_x: their
        embeddings side by side, (batch, num_fields * num_factors) float32;
        field_sum: their sum over fields, (batch, num_factors), if the caller
        has it (DeepFM computes it with its MLP's first layer)."""
        linear, sum_of_square = kernels.linear_term_and_sum_of_squares(F, self, x, embed_x)
        square_of_sum = kernels.square_of_sum(F, embed_x, self.num_fields, self.num_factors, field_sum)
        return self.linear_layer(linear) + 0.5 * (square_of_sum - sum_of_square)


def onnx_logit(net, graph):
    """The FM's logit as an ONNX graph (models/onnx_layers.py): (batch, 1)."""
    return onnx_fm_logit(net, graph, onnx_layers.embedding(graph, net.embedding))


def onnx_fm_logit(net, graph, embed):
    """Linear term plus FM interaction of ``embed`` (batch, num_fields, k): (batch, 1)."""
    return graph.add(onnx_layers.linear_term(graph, net.fc, net.linear_layer),
                     onnx_layers.fm_interaction(graph, embed), name="fm_logit")


NUM_FACTORS = Hyperparameter("num_factors", 20, "int", 1, MAX_FACTORS, flag="--num-factors",
                             help="embedding size k")

MODEL = ModelSpec(
    name="fm", block=FM,
    description="Factorization machine (Rendle, ICDM 2010): linear terms plus all pairwise "
                "<v_i, v_j> interactions; the d2l FM chapter",
    hyperparameters=(NUM_FACTORS,), lr=0.02, tables=("embedding", "fc"),
    output_bias="linear_layer.bias", interactions="embedding", onnx=onnx_logit, fold=folded.fold_fm,
    search_space={"lr": FloatRange(1e-4, 3e-2, log=True), "embedding_l2": FloatRange(1e-8, 1e-1, log=True),
                  "batch_size": Choice((256, 512, 1024, 2048, 4096)),
                  "num_factors": Choice((4, 8, 16, 32, 64))})
