"""NFM, the neural factorization machine (He & Chua, SIGIR 2017): FM's
pairwise products pooled into one k-vector (bi-interaction), then an MLP.

Where the paper leaves choices open, FuxiCTR's NFM: the linear part is LR
over the fields, the MLP (ReLU) has hidden sizes 64-64-64, no dropout on
the bi-interaction vector and no batch norm (the paper tunes both).
"""
from . import onnx_layers, zoo_spec
from .layers import EmbeddingModel, bi_interaction, linear_children, linear_term, mlp_tower
from .spec import ModelSpec


class NFM(EmbeddingModel):
    """``sigmoid(linear + MLP(sum_{i<j} e_i * e_j))``; the pooled vector is
    0.5 * ((sum_f e_f)^2 - sum_f e_f^2), element-wise, (B, k).

    ``field_dims``: rows per field; ``num_factors``: embedding size k;
    ``mlp_dims``: hidden sizes; ``drop_rate``: dropout after each hidden
    layer. Children: ``embedding``, ``fc``, ``linear_layer`` and ``mlp``
    (input k, Dense(relu)+Dropout per hidden size, then Dense(1)).
    """

    def __init__(self, field_dims, num_factors, mlp_dims, drop_rate=0.0, **kwargs):
        super().__init__(field_dims, num_factors, mlp_dims, drop_rate, **kwargs)
        self.fc, self.linear_layer = linear_children(self.num_inputs)
        self.mlp = mlp_tower(self.num_factors, self.mlp_dims, self.drop_rate)

    def logit(self, F, x):
        """x: int32 (B, f) feature ids; returns (B, 1) float32."""
        pooled = bi_interaction(F, self.embed_flat(x), self.num_fields, self.num_factors)
        return linear_term(F, self.fc, self.linear_layer, x, self.num_fields) + self.mlp(pooled)


def onnx_logit(net, graph):
    """NFM's logit as an ONNX graph (models/onnx_layers.py): (batch, 1)."""
    pooled = onnx_layers.bi_interaction(graph, onnx_layers.embedding(graph, net.embedding))
    return graph.add(onnx_layers.linear_term(graph, net.fc, net.linear_layer),
                     onnx_layers.mlp(graph, net.mlp, pooled), name="logit")


MODEL = ModelSpec(
    name="nfm", block=NFM,
    description="NFM (He & Chua, SIGIR 2017): bi-interaction pooling of FM's pairwise products, "
                "then an MLP, plus the linear part",
    hyperparameters=(zoo_spec.NUM_FACTORS, zoo_spec.MLP_DIMS, zoo_spec.DROP_RATE), lr=1e-3,
    tables=("embedding", "fc"), output_bias="linear_layer.bias", interactions="embedding", onnx=onnx_logit,
    search_space={**zoo_spec.TRAINING_SPACE, **zoo_spec.EMBEDDING_SPACE, **zoo_spec.MLP_SPACE})
