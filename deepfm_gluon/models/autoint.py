"""AutoInt (Song et al., CIKM 2019): stacked multi-head self-attention over
the field embeddings, with residual connections, then a linear output.

Layer: per head h, Q = E W_Q^h, K = E W_K^h, V = E W_V^h,
``A^h = softmax(Q K^T) V`` (over fields; no 1/sqrt(d) scaling, as the paper
and FuxiCTR's default ``use_scale=False``), heads concatenated,
``E' = ReLU(A + E W_res)`` (W_res only where the widths differ, else E).
Where the paper leaves choices open, FuxiCTR's AutoInt defaults: 2
attention layers, 1 head of 8 dimensions, residual on, no layer norm, no
linear ("wide") part, dropout ``drop_rate`` on the attention weights, and
no MLP: ``mlp_dims`` adds FuxiCTR's parallel MLP, which makes it the
paper's AutoInt+. ``attention_dim`` is the size of each head (the
paper's d'); FuxiCTR's ``attention_dim`` is the heads' total. The softmax
is ``npx.softmax``, one fused op: 8-11x faster forward+backward than exp
over a sum on the no-AVX wheel (docs/models.md, Kernels).
"""
import dataclasses

from mxnet.gluon import nn

from . import onnx_layers, zoo_spec
from ..limits import MAX_FACTORS
from .layers import Dropout, EmbeddingModel, mlp_tower
from .spec import Choice, Hyperparameter, IntRange, ModelSpec


class SelfAttentionLayer(nn.HybridBlock):
    """Multi-head self-attention over fields with a residual and ReLU:
    (B, f, ``input_dim``) -> (B, f, ``num_heads * head_dim``). Children:
    ``query``, ``key``, ``value`` (Dense without bias, columns grouped by
    head), ``residual`` (Dense without bias, only when the widths differ)
    and ``dropout`` (on the attention weights)."""

    def __init__(self, num_fields, input_dim, num_heads, head_dim, drop_rate=0.0, **kwargs):
        super().__init__(**kwargs)
        self.num_fields, self.num_heads, self.head_dim = int(num_fields), int(num_heads), int(head_dim)
        width = self.num_heads * self.head_dim
        self.query, self.key, self.value = (nn.Dense(width, use_bias=False, flatten=False, in_units=input_dim)
                                            for _ in range(3))
        self.residual = nn.Dense(width, use_bias=False, flatten=False, in_units=input_dim) \
            if input_dim != width else None
        self.dropout = Dropout(rate=drop_rate)

    def _split_heads(self, F, t):
        """(B, f, heads*d) -> (B*heads, f, d)."""
        if self.num_heads == 1:
            return t
        t = t.reshape((-1, self.num_fields, self.num_heads, self.head_dim))
        return F.np.transpose(t, (0, 2, 1, 3)).reshape((-1, self.num_fields, self.head_dim))

    def _merge_heads(self, F, t):
        """(B*heads, f, d) -> (B, f, heads*d)."""
        if self.num_heads == 1:
            return t
        t = t.reshape((-1, self.num_heads, self.num_fields, self.head_dim))
        return F.np.transpose(t, (0, 2, 1, 3)).reshape((-1, self.num_fields, self.num_heads * self.head_dim))

    def hybrid_forward(self, F, embed):
        q, k, v = (self._split_heads(F, proj(embed)) for proj in (self.query, self.key, self.value))
        weights = self.dropout(F.npx.softmax(F.npx.batch_dot(q, k, transpose_b=True), axis=-1))
        attended = self._merge_heads(F, F.npx.batch_dot(weights, v))
        return F.npx.relu(attended + (self.residual(embed) if self.residual is not None else embed))


class AutoInt(EmbeddingModel):
    """``sigmoid(Dense(1)(flatten(attention^L(E))) [+ MLP(flat E)])``.

    ``field_dims``: rows per field; ``num_factors``: embedding size k;
    ``mlp_dims``: hidden sizes of the optional parallel MLP (AutoInt+;
    empty: none); ``drop_rate``: dropout on the attention weights and in
    the MLP; ``num_attention_layers``, ``num_heads``, ``attention_dim``
    (per head). Children: ``embedding``, ``attention`` (one
    SelfAttentionLayer per layer), ``output_layer`` (its bias is the output
    bias) and, with mlp_dims, ``mlp``.
    """

    def __init__(self, field_dims, num_factors, mlp_dims=(), drop_rate=0.0, num_attention_layers=2,
                 num_heads=1, attention_dim=8, **kwargs):
        super().__init__(field_dims, num_factors, mlp_dims, drop_rate, **kwargs)
        self.num_attention_layers = int(num_attention_layers)
        self.num_heads, self.attention_dim = int(num_heads), int(attention_dim)
        width = self.num_heads * self.attention_dim
        self.attention = nn.HybridSequential()
        for layer in range(self.num_attention_layers):
            self.attention.add(SelfAttentionLayer(self.num_fields, self.num_factors if layer == 0 else width,
                                                  self.num_heads, self.attention_dim, self.drop_rate))
        self.output_layer = nn.Dense(1, in_units=self.num_fields * width)
        self.mlp = mlp_tower(self.num_fields * self.num_factors, self.mlp_dims, self.drop_rate) \
            if self.mlp_dims else None

    def config(self):
        return {**super().config(), "num_attention_layers": self.num_attention_layers,
                "num_heads": self.num_heads, "attention_dim": self.attention_dim}

    def logit(self, F, x):
        """x: int32 (B, f) feature ids; returns (B, 1) float32."""
        embed = self.embedding(x)  # (B, f, k)
        attended = self.attention(embed)
        logit = self.output_layer(attended.reshape((-1, self.num_fields * self.num_heads * self.attention_dim)))
        if self.mlp is not None:
            logit = logit + self.mlp(embed.reshape((-1, self.num_fields * self.num_factors)))
        return logit


def onnx_logit(net, graph):
    """AutoInt's logit as an ONNX graph (models/onnx_layers.py): (batch, 1)."""
    embed = onnx_layers.embedding(graph, net.embedding)  # (B, f, k)
    h = embed
    for i, layer in enumerate(net.attention):
        h = onnx_layers.multi_head_self_attention(graph, h, layer.query, layer.key, layer.value, layer.residual,
                                                  layer.num_heads, layer.head_dim, f"attention.{i}")
    logit = onnx_layers.dense(graph, net.output_layer, onnx_layers.flatten_fields(graph, h, "attended_flat"),
                              "output_layer")
    if net.mlp is not None:
        logit = graph.add(logit, onnx_layers.mlp(graph, net.mlp, onnx_layers.flatten_fields(graph, embed)),
                          name="logit")
    return logit


NUM_ATTENTION_LAYERS = Hyperparameter("num_attention_layers", 2, "int", 1, 16,
                                      help="stacked self-attention layers")
NUM_HEADS = Hyperparameter("num_heads", 1, "int", 1, 64, help="attention heads per layer")
ATTENTION_DIM = Hyperparameter("attention_dim", 8, "int", 1, MAX_FACTORS, help="size of each attention head")

MODEL = ModelSpec(
    name="autoint", block=AutoInt,
    description="AutoInt (Song et al., CIKM 2019): multi-head self-attention over the field embeddings "
                "with residual connections, then a linear output (with mlp_dims: AutoInt+)",
    hyperparameters=(zoo_spec.NUM_FACTORS, dataclasses.replace(zoo_spec.MLP_DIMS, default=[]),
                     dataclasses.replace(zoo_spec.DROP_RATE, help="dropout on the attention weights and after each MLP hidden layer"),
                     NUM_ATTENTION_LAYERS, NUM_HEADS, ATTENTION_DIM),
    lr=1e-3, tables=("embedding",), output_bias="output_layer.bias", onnx=onnx_logit,
    search_space={**zoo_spec.TRAINING_SPACE, **zoo_spec.EMBEDDING_SPACE, **zoo_spec.MLP_SPACE,
                  "num_attention_layers": IntRange(1, 4), "num_heads": Choice((1, 2, 4)),
                  "attention_dim": Choice((8, 16, 32))})
