"""DCN-V2 (Wang et al., WWW 2021): a cross network of full-rank cross
layers beside an MLP, over the flattened field embeddings.

Cross layer l: ``x_{l+1} = x0 * (W_l x_l + b_l) + x_l`` (element-wise
product; x0 the (f*k) embeddings side by side). Where the paper leaves
choices open, FuxiCTR's DCNv2 defaults: the *parallel* structure (cross
network and MLP side by side on x0, their outputs concatenated into one
Dense(1)), full-rank W (no low-rank mixture of experts), 3 cross layers,
no linear part; FuxiCTR's class leaves the MLP empty by default, which the
parallel structure cannot use, so it takes FuxiCTR's other models' 64-64-64.
"""
import dataclasses

from mxnet.gluon import nn

from . import onnx_layers, zoo_spec
from ..limits import MAX_MLP_LAYERS
from .layers import EmbeddingModel, mlp_tower
from .spec import Hyperparameter, IntRange, ModelSpec


class DCNv2(EmbeddingModel):
    """``sigmoid(Dense(1)([cross(x0), MLP(x0)]))``, x0 = concat_f e_{x_f}.

    ``field_dims``: rows per field; ``num_factors``: embedding size k;
    ``mlp_dims``: hidden sizes of the parallel MLP (at least one);
    ``drop_rate``: its dropout; ``num_cross_layers``: cross layers.
    Children: ``embedding``, ``cross`` (Dense(f*k) per layer: W_l, b_l),
    ``mlp`` (hidden layers only) and ``output_layer``, whose bias is the
    output bias.
    """

    def __init__(self, field_dims, num_factors, mlp_dims, drop_rate=0.0, num_cross_layers=3, **kwargs):
        super().__init__(field_dims, num_factors, mlp_dims, drop_rate, **kwargs)
        if not self.mlp_dims:
            raise ValueError("DCNv2: the parallel structure needs at least one MLP layer (mlp_dims)")
        self.num_cross_layers = int(num_cross_layers)
        width = self.num_fields * self.num_factors
        self.cross = nn.HybridSequential()
        for _ in range(self.num_cross_layers):
            self.cross.add(nn.Dense(width, in_units=width))
        self.mlp = mlp_tower(width, self.mlp_dims, self.drop_rate, output_dim=None)
        self.output_layer = nn.Dense(1, in_units=width + self.mlp_dims[-1])

    def config(self):
        return {**super().config(), "num_cross_layers": self.num_cross_layers}

    def logit(self, F, x):
        """x: int32 (B, f) feature ids; returns (B, 1) float32."""
        x0 = self.embed_flat(x)
        xl = x0
        for layer in self.cross:
            xl = x0 * layer(xl) + xl
        return self.output_layer(F.np.concatenate([xl, self.mlp(x0)], axis=1))


def onnx_logit(net, graph):
    """DCN-V2's logit as an ONNX graph (models/onnx_layers.py): (batch, 1)."""
    x0 = onnx_layers.flatten_fields(graph, onnx_layers.embedding(graph, net.embedding))
    xl = x0
    for i, layer in enumerate(net.cross):
        xl = onnx_layers.cross_layer(graph, layer, x0, xl, f"cross.{i}")
    both = onnx_layers.concat(graph, [xl, onnx_layers.mlp(graph, net.mlp, x0)], name="cross_and_mlp")
    return onnx_layers.dense(graph, net.output_layer, both, "output_layer")


NUM_CROSS_LAYERS = Hyperparameter("num_cross_layers", 3, "int", 1, MAX_MLP_LAYERS,
                                  help="cross layers x0 * (W x + b) + x")

MODEL = ModelSpec(
    name="dcnv2", block=DCNv2,
    description="DCN-V2 (Wang et al., WWW 2021): full-rank cross layers x0 * (W x + b) + x beside an "
                "MLP (parallel), over the flattened embeddings",
    hyperparameters=(zoo_spec.NUM_FACTORS, dataclasses.replace(zoo_spec.MLP_DIMS, min_len=1),
                     zoo_spec.DROP_RATE, NUM_CROSS_LAYERS),
    lr=1e-3, tables=("embedding",), output_bias="output_layer.bias", onnx=onnx_logit,
    search_space={**zoo_spec.TRAINING_SPACE, **zoo_spec.EMBEDDING_SPACE, **zoo_spec.MLP_SPACE,
                  "num_cross_layers": IntRange(1, 6)})
