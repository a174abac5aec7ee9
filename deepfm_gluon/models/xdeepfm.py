"""xDeepFM (Lian et al., KDD 2018): a compressed interaction network (CIN)
for explicit vector-wise interactions, an MLP and a linear part.

CIN layer h: ``X^h[c, :] = sum_j sum_i W^h[c, j, i] * X^{h-1}[j, :] * X^0[i, :] + b^h[c]``
(all products element-wise over the k embedding dimensions; X^0 the
(f, k) field embeddings), each layer sum-pooled over k, the pooled vectors
of all layers concatenated and mapped to one logit. Where the paper leaves
choices open, FuxiCTR's xDeepFM and CompressedInteractionNet: identity
activation, a bias per CIN channel (its 1x1 convolution's), every layer
pooled (no split-half), layer sizes 16-16-16, MLP 64-64-64 without
dropout, and the LR part; the paper's identity activation too.
"""
from mxnet.gluon import nn

from . import kernels, onnx_layers, zoo_spec
from ..limits import MAX_MLP_LAYERS
from .layers import EmbeddingModel, linear_children, linear_term, mlp_tower
from .spec import Hyperparameter, LayerSizes, ModelSpec

MAX_CIN_WIDTH = 1024  # a layer's weight is width x previous width x fields


class CINLayer(nn.HybridBlock):
    """One CIN layer: (R, H) previous maps and (R, f) base embeddings, one row
    per (example, embedding dimension), -> (R, ``width_out``) new maps.
    ``weight``: (width_out * width_in, f), W[c, j, i]; ``bias``: (width_out,)."""

    def __init__(self, num_fields, width_in, width_out, **kwargs):
        super().__init__(**kwargs)
        self.width_in, self.width_out = int(width_in), int(width_out)
        self.weight = self.params.get("weight", shape=(self.width_out * self.width_in, int(num_fields)))
        self.bias = self.params.get("bias", shape=(self.width_out,), init="zeros")

    def hybrid_forward(self, F, x0, xk, weight, bias):
        return kernels.cin_interaction(F, x0, xk, weight, self.width_in, self.width_out) + bias


class CIN(nn.HybridBlock):
    """The compressed interaction network: (B, f, k) field embeddings ->
    (B, 1) logit. Children: ``layers`` (one CINLayer per entry of
    ``layer_sizes``) and ``output`` (Dense(1) over the concatenated
    sum-pooled maps)."""

    def __init__(self, num_fields, num_factors, layer_sizes, **kwargs):
        super().__init__(**kwargs)
        self.num_fields, self.num_factors = int(num_fields), int(num_factors)
        self.layers = nn.HybridSequential()
        width_in = self.num_fields
        for width in layer_sizes:
            self.layers.add(CINLayer(self.num_fields, width_in, width))
            width_in = width
        self.output = nn.Dense(1, in_units=int(sum(layer_sizes)))

    def hybrid_forward(self, F, embed):
        # rows (example, embedding dimension): the k dimensions interact independently
        x0 = F.np.transpose(embed, (0, 2, 1)).reshape((-1, self.num_fields))
        xk, pooled = x0, []
        for layer in self.layers:
            xk = layer(x0, xk)
            flat = xk.reshape((-1, self.num_factors * layer.width_out))
            pooled.append(kernels.sum_over_fields(F, flat, self.num_factors, layer.width_out))
        return self.output(F.np.concatenate(pooled, axis=1) if len(pooled) > 1 else pooled[0])


class XDeepFM(EmbeddingModel):
    """``sigmoid(linear + CIN(E) + MLP(flat E))`` over one shared embedding E.

    ``field_dims``: rows per field; ``num_factors``: embedding size k;
    ``mlp_dims``: the MLP's hidden sizes (empty: CIN and linear only);
    ``drop_rate``: MLP dropout; ``cin_layer_sizes``: feature maps per CIN
    layer. Children: ``embedding``, ``fc``, ``linear_layer``, ``cin``, ``mlp``.
    """

    def __init__(self, field_dims, num_factors, mlp_dims, drop_rate=0.0, cin_layer_sizes=(16, 16, 16),
                 **kwargs):
        super().__init__(field_dims, num_factors, mlp_dims, drop_rate, **kwargs)
        self.cin_layer_sizes = tuple(int(s) for s in cin_layer_sizes)
        self.fc, self.linear_layer = linear_children(self.num_inputs)
        self.cin = CIN(self.num_fields, self.num_factors, self.cin_layer_sizes)
        self.mlp = mlp_tower(self.num_fields * self.num_factors, self.mlp_dims, self.drop_rate) \
            if self.mlp_dims else None

    def config(self):
        return {**super().config(), "cin_layer_sizes": list(self.cin_layer_sizes)}

    def logit(self, F, x):
        """x: int32 (B, f) feature ids; returns (B, 1) float32."""
        embed = self.embedding(x)  # (B, f, k)
        logit = linear_term(F, self.fc, self.linear_layer, x, self.num_fields) + self.cin(embed)
        if self.mlp is not None:
            logit = logit + self.mlp(embed.reshape((-1, self.num_fields * self.num_factors)))
        return logit


def onnx_logit(net, graph):
    """xDeepFM's logit as an ONNX graph (models/onnx_layers.py): (batch, 1)."""
    embed = onnx_layers.embedding(graph, net.embedding)  # (B, f, k)
    x0 = graph.node("Transpose", [embed], "embed_by_dimension", perm=[0, 2, 1])  # (B, k, f)
    xk, pooled = x0, []
    for i, layer in enumerate(net.cin.layers):
        xk = onnx_layers.compressed_interaction(graph, x0, xk, layer.weight, layer.bias, layer.width_in,
                                                layer.width_out, f"cin.layers.{i}")
        pooled.append(graph.node("ReduceSum", [xk, graph.axes(1)], f"cin_pool_{i}", keepdims=0))
    cin = onnx_layers.dense(graph, net.cin.output, onnx_layers.concat(graph, pooled, name="cin_pooled"),
                            "cin.output")
    logit = graph.add(onnx_layers.linear_term(graph, net.fc, net.linear_layer), cin, name="linear_cin")
    if net.mlp is not None:
        logit = graph.add(logit, onnx_layers.mlp(graph, net.mlp, onnx_layers.flatten_fields(graph, embed)),
                          name="logit")
    return logit


CIN_LAYER_SIZES = Hyperparameter("cin_layer_sizes", [16, 16, 16], "ints", 1, MAX_CIN_WIDTH, min_len=1,
                                 max_len=MAX_MLP_LAYERS, help="feature maps per CIN layer")

MODEL = ModelSpec(
    name="xdeepfm", block=XDeepFM,
    description="xDeepFM (Lian et al., KDD 2018): a compressed interaction network (CIN), an MLP and "
                "a linear part over one embedding",
    hyperparameters=(zoo_spec.NUM_FACTORS, zoo_spec.MLP_DIMS, zoo_spec.DROP_RATE, CIN_LAYER_SIZES),
    lr=1e-3, tables=("embedding", "fc"), output_bias="linear_layer.bias", onnx=onnx_logit,
    search_space={**zoo_spec.TRAINING_SPACE, **zoo_spec.EMBEDDING_SPACE, **zoo_spec.MLP_SPACE,
                  "cin_layer_sizes": LayerSizes(widths=(8, 16, 32, 64), depths=(1, 2, 3))})
