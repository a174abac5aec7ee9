"""Wide & Deep (Cheng et al., DLRS 2016): a linear model over the one-hot
features beside an MLP over their embeddings, trained jointly.

The paper's wide part also takes hand-made cross-product features; like
FuxiCTR's WideDeep, the wide part here is the plain linear model (LR) over
the fields, and the deep part an MLP (ReLU, no batch norm) over the
concatenated field embeddings. Defaults are FuxiCTR's (zoo_spec.py).
"""
from . import onnx_layers, zoo_spec
from .layers import EmbeddingModel, linear_children, linear_term, mlp_tower
from .spec import ModelSpec


class WideDeep(EmbeddingModel):
    """``sigmoid(wide + deep)``: wide = ``linear_layer(sum_f w_{x_f})`` (LR),
    deep = MLP(concat_f e_{x_f}).

    ``field_dims``: rows per field; ``num_factors``: embedding size k;
    ``mlp_dims``: hidden sizes; ``drop_rate``: dropout after each hidden
    layer. Children: ``embedding`` (sum(field_dims), k), ``fc`` and
    ``linear_layer`` (wide), ``mlp`` (Dense(relu)+Dropout per hidden size,
    then Dense(1)).
    """

    def __init__(self, field_dims, num_factors, mlp_dims, drop_rate=0.0, **kwargs):
        super().__init__(field_dims, num_factors, mlp_dims, drop_rate, **kwargs)
        self.fc, self.linear_layer = linear_children(self.num_inputs)
        self.mlp = mlp_tower(self.num_fields * self.num_factors, self.mlp_dims, self.drop_rate)

    def logit(self, F, x):
        """x: int32 (B, f) feature ids; returns (B, 1) float32."""
        wide = linear_term(F, self.fc, self.linear_layer, x, self.num_fields)
        return wide + self.mlp(self.embed_flat(x))


def onnx_logit(net, graph):
    """Wide & Deep's logit as an ONNX graph (models/onnx_layers.py): (batch, 1)."""
    embed = onnx_layers.flatten_fields(graph, onnx_layers.embedding(graph, net.embedding))
    return graph.add(onnx_layers.linear_term(graph, net.fc, net.linear_layer),
                     onnx_layers.mlp(graph, net.mlp, embed), name="logit")


MODEL = ModelSpec(
    name="widedeep", block=WideDeep,
    description="Wide & Deep (Cheng et al., DLRS 2016): a linear model over the one-hot features plus "
                "an MLP over their embeddings",
    hyperparameters=(zoo_spec.NUM_FACTORS, zoo_spec.MLP_DIMS, zoo_spec.DROP_RATE), lr=1e-3,
    tables=("embedding", "fc"), output_bias="linear_layer.bias", onnx=onnx_logit,
    search_space={**zoo_spec.TRAINING_SPACE, **zoo_spec.EMBEDDING_SPACE, **zoo_spec.MLP_SPACE})
