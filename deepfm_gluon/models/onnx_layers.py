"""Shared ONNX building blocks: a model's inference graph from its trained blocks.

MXNet 1.9.1's ONNX exporter has no converters for numpy-mode ops (``_npi_*``,
``_npx_sigmoid``), so each model writes its graph in standard ONNX ops with
these blocks, in its ``MODEL``'s ``onnx`` function::

    def onnx_logit(net, graph):                      # models/fm.py
        embed = onnx_layers.embedding(graph, net.embedding)          # (B, F, k)
        linear = onnx_layers.linear_term(graph, net.fc, net.linear_layer)
        return graph.add(linear, onnx_layers.fm_interaction(graph, embed))  # (B, 1)

    MODEL = ModelSpec(..., onnx=onnx_logit)

``serving/export_onnx.py`` does the rest for every model: it makes the
``OnnxGraph``, calls ``spec.onnx(net, graph)`` for the logit tensor, adds the
sigmoid output, metadata and ``onnx.checker``. A model's test compares the
exported graph with the net within 1e-5 (ONNX Runtime).

The builder (tensor names are strings; shapes below, B the dynamic batch):

- ``graph.x``: the input, int64 (B, num_fields) global feature ids (field
  offsets added, as in training); ``graph.num_fields``.
- ``graph.const(value, name, dtype=float32)`` -> an initializer's name.
- ``graph.param(parameter, name)`` -> a Gluon Parameter's trained array as a
  float32 initializer.
- ``graph.node(op, inputs, name, outputs=1, **attrs)`` -> the output name (a
  list when ``outputs > 1``); names are made unique, so a block may be used
  twice. Any standard op of ``OPSET`` works here.
- ``graph.add(*tensors)``, ``graph.mul(a, b)``, ``graph.sigmoid(t)``,
  ``graph.axes(*ints)`` (an int64 constant for ReduceSum/Unsqueeze axes).
- ``graph.model(output, metadata, doc)`` -> the checked ``onnx.ModelProto``
  (export_onnx calls it).

The blocks (functions of ``graph`` and the trained Gluon blocks):

- ``embedding(graph, table, x=None)``: Gather of an ``nn.Embedding`` at x,
  (B, F, k) (k = 1 for a per-feature weight table such as FM's ``fc``);
- ``flatten_fields(graph, embed)``: (B, F, k) -> (B, F*k), fields side by side;
- ``linear_term(graph, fc, linear_layer=None)``: sum over fields of the
  per-feature weights, through the book's ``Dense(1, in_units=1)`` when
  given, (B, 1);
- ``fm_interaction(graph, embed)``: 0.5 * (||sum_f e_f||^2 - sum_f ||e_f||^2),
  (B, 1);
- ``bi_interaction(graph, embed)``: the same before the sum over k, (B, k)
  (NFM's pooling);
- ``dense(graph, layer, h)``: one ``nn.Dense`` (Gemm, then its activation:
  relu, sigmoid, tanh or none) on a 2-d h;
- ``mlp(graph, layers, h)``: an ``nn.HybridSequential`` of Dense, Dropout
  (the identity at inference), BatchNorm (inference statistics) and
  Activation blocks; any other child is refused by name;
- ``sigmoid`` / ``OUTPUT_NAME``: the click probability output export adds.

Opset 17 (ONNX 1.12+, every ONNX Runtime since 1.12, onnxruntime-node and
onnxruntime-web included); IR version 8. ``onnx`` is imported only inside
``OnnxGraph.model`` (start-up: the serve extra is optional and models load
without it).
"""
import numpy as np
from mxnet.gluon import nn

OPSET = 17
IR_VERSION = 8
INPUT_NAME, OUTPUT_NAME = "feature_indices", "click_probability"
ACTIVATIONS = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}


class OnnxGraph:
    """Nodes and initializers of one ONNX graph being written (see the module doc)."""

    def __init__(self, num_fields, x=INPUT_NAME):
        self.num_fields = int(num_fields)
        self.x = x
        self.nodes, self.initializers = [], []  # (op, inputs, outputs, attrs), (name, array)
        self._names = {x}

    def unique(self, name):
        """``name``, or ``name_2``, ``name_3``, ... if it is taken."""
        candidate, n = name, 1
        while candidate in self._names:
            n += 1
            candidate = f"{name}_{n}"
        self._names.add(candidate)
        return candidate

    def const(self, value, name, dtype=np.float32):
        """An initializer holding ``value`` (as ``dtype``); returns its name."""
        name = self.unique(name)
        self.initializers.append((name, np.asarray(value, dtype=dtype)))
        return name

    def param(self, parameter, name):
        """A Gluon Parameter's trained values as a float32 initializer."""
        return self.const(parameter.data().asnumpy(), name)

    def axes(self, *axes):
        return self.const(list(axes), "axes_" + "_".join(str(a) for a in axes), np.int64)

    def node(self, op, inputs, name=None, outputs=1, **attrs):
        """Append ``op`` on ``inputs``; returns its output name (a list if ``outputs`` > 1)."""
        name = self.unique(name or op.lower())
        names = [name] if outputs == 1 else [self.unique(f"{name}_{i}") for i in range(outputs)]
        self.nodes.append((op, list(inputs), names, attrs))
        return names[0] if outputs == 1 else names

    def add(self, *tensors, name="sum"):
        total = tensors[0]
        for tensor in tensors[1:]:
            total = self.node("Add", [total, tensor], name)
        return total

    def mul(self, a, b, name="product"):
        return self.node("Mul", [a, b], name)

    def sigmoid(self, tensor, name="sigmoid"):
        return self.node("Sigmoid", [tensor], name)

    def model(self, output, metadata=None, doc="", graph_name="deepfm_gluon"):
        """The checked ``onnx.ModelProto`` from x to ``output`` (float32 (B, 1));
        ``metadata`` (str -> str) goes into metadata_props."""
        # start-up: optional extra [serve], imported only when exporting
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        nodes = [helper.make_node(op, inputs, outputs, name=outputs[0], **attrs)
                 for op, inputs, outputs, attrs in self.nodes]
        graph = helper.make_graph(
            nodes, graph_name,
            [helper.make_tensor_value_info(self.x, TensorProto.INT64, ["batch", self.num_fields])],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", 1])],
            initializer=[numpy_helper.from_array(array, name) for name, array in self.initializers])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="deepfm-gluon", ir_version=IR_VERSION, doc_string=doc)
        helper.set_model_props(model, {k: str(v) for k, v in (metadata or {}).items()})
        onnx.checker.check_model(model, full_check=True)
        return model


def embedding(graph, table, x=None, name="embed"):
    """Rows of ``table`` (an ``nn.Embedding`` (N, k)) at x: float32 (B, F, k)."""
    return graph.node("Gather", [graph.param(table.weight, name + ".weight"), x or graph.x], name)


def flatten_fields(graph, embed, name="embed_flat"):
    """(B, F, k) -> (B, F*k): each row's field embeddings side by side (the
    models' ``reshape((-1, num_fields * num_factors))``)."""
    return graph.node("Flatten", [embed], name, axis=1)


def linear_term(graph, fc, linear_layer=None, name="linear"):
    """sum_f w[x_f] (``fc``: an ``nn.Embedding`` (N, 1)), through ``linear_layer``
    (the book's ``Dense(1, in_units=1)``) when given: float32 (B, 1)."""
    weights = embedding(graph, fc, name=name + "_weights")  # (B, F, 1)
    total = graph.node("ReduceSum", [weights, graph.axes(1)], name + "_sum", keepdims=0)  # (B, 1)
    return total if linear_layer is None else dense(graph, linear_layer, total, name)


def bi_interaction(graph, embed, name="bi_interaction"):
    """0.5 * ((sum_f e_f)^2 - sum_f e_f^2), elementwise over k: float32 (B, k)."""
    summed = graph.node("ReduceSum", [embed, graph.axes(1)], name + "_field_sum", keepdims=0)  # (B, k)
    square_of_sum = graph.mul(summed, summed, name + "_square_of_sum")
    sum_of_square = graph.node("ReduceSum", [graph.mul(embed, embed, name + "_sq"), graph.axes(1)],
                               name + "_sum_of_square", keepdims=0)
    diff = graph.node("Sub", [square_of_sum, sum_of_square], name + "_diff")
    return graph.mul(diff, graph.const(0.5, "half"), name)


def fm_interaction(graph, embed, name="fm_second_order"):
    """The FM's pairwise term sum_{i<j} <e_i, e_j>, as
    0.5 * (||sum_f e_f||^2 - sum_f ||e_f||^2): float32 (B, 1)."""
    axis1 = graph.axes(1)
    summed = graph.node("ReduceSum", [embed, axis1], name + "_field_sum", keepdims=0)  # (B, k)
    square_of_sum = graph.node("ReduceSum", [graph.mul(summed, summed, name + "_field_sum_sq"), axis1],
                               name + "_square_of_sum", keepdims=1)  # (B, 1)
    flat = flatten_fields(graph, embed, name + "_flat")
    sum_of_square = graph.node("ReduceSum", [graph.mul(flat, flat, name + "_sq"), axis1],
                               name + "_sum_of_square", keepdims=1)  # (B, 1)
    diff = graph.node("Sub", [square_of_sum, sum_of_square], name + "_diff")
    return graph.mul(diff, graph.const(0.5, "half"), name)


def activation(graph, act_type, h, name):
    """``h`` through the Gluon activation ``act_type`` (relu, sigmoid, tanh)."""
    if act_type not in ACTIVATIONS:
        raise ValueError(f"{name}: activation {act_type!r} has no ONNX block; known: "
                         f"{', '.join(ACTIVATIONS)}")
    return graph.node(ACTIVATIONS[act_type], [h], f"{name}_{act_type}")


def dense(graph, layer, h, name="dense"):
    """One ``nn.Dense`` on a 2-d ``h`` (B, in): Gemm(h, W^T, b), then its
    activation, (B, out)."""
    inputs = [h, graph.param(layer.weight, name + ".weight")]
    if layer.bias is not None:
        inputs.append(graph.param(layer.bias, name + ".bias"))
    out = graph.node("Gemm", inputs, name, transB=1)
    return out if layer.act is None else activation(graph, layer.act._act_type, out, name)


def batch_norm(graph, layer, h, name="batch_norm"):
    """An ``nn.BatchNorm`` at inference (running statistics) on (B, C)."""
    kwargs = layer._kwargs
    gamma = (np.ones(layer.gamma.shape, np.float32) if kwargs.get("fix_gamma")
             else layer.gamma.data().asnumpy())
    inputs = [h, graph.const(gamma, name + ".gamma"), graph.param(layer.beta, name + ".beta"),
              graph.param(layer.running_mean, name + ".running_mean"),
              graph.param(layer.running_var, name + ".running_var")]
    return graph.node("BatchNormalization", inputs, name, epsilon=float(kwargs.get("eps", 1e-5)))


def mlp(graph, layers, h, name="mlp"):
    """An ``nn.HybridSequential`` (or list) of Dense, Dropout, BatchNorm and
    Activation blocks on a 2-d ``h``: the tensor after the last one."""
    for i, layer in enumerate(layers):
        layer_name = f"{name}.{i}"
        if isinstance(layer, nn.Dense):
            h = dense(graph, layer, h, layer_name)
        elif isinstance(layer, nn.Dropout):
            continue  # the identity when predicting
        elif isinstance(layer, nn.BatchNorm):
            h = batch_norm(graph, layer, h, layer_name)
        elif isinstance(layer, nn.Activation):
            h = activation(graph, layer._act_type, h, layer_name)
        else:
            raise ValueError(f"{layer_name}: {type(layer).__name__} has no ONNX block in onnx_layers.mlp")
    return h


# --- blocks of the model zoo (DCN-V2, xDeepFM, AutoInt) ---------------------

def concat(graph, tensors, axis=1, name="concat"):
    """``tensors`` side by side along ``axis`` (one tensor: itself)."""
    return tensors[0] if len(tensors) == 1 else graph.node("Concat", list(tensors), name, axis=axis)


def cross_layer(graph, layer, x0, xl, name="cross"):
    """DCN-V2's cross layer ``x0 * (W xl + b) + xl`` (``layer``: the
    ``nn.Dense`` holding W, b) on 2-d (B, d) tensors: (B, d)."""
    return graph.add(graph.mul(x0, dense(graph, layer, xl, name), name + "_gate"), xl, name=name + "_out")


def compressed_interaction(graph, x0, xk, weight, bias, width_in, width_out, name="cin"):
    """One CIN layer (xDeepFM) in the paper's form: the outer product of the
    previous maps ``xk`` (B, k, H) and the base embeddings ``x0`` (B, k, m)
    per embedding dimension, compressed by ``weight`` (Gluon Parameter,
    (H' * H, m), read W[c, j, i]) plus ``bias`` (H',): (B, k, H')."""
    num_fields = weight.shape[1]
    outer = graph.mul(graph.node("Unsqueeze", [xk, graph.axes(3)], name + "_maps"),
                      graph.node("Unsqueeze", [x0, graph.axes(2)], name + "_fields"), name + "_outer")
    flat = graph.node("Reshape", [outer, graph.const([0, 0, width_in * num_fields], name + "_shape", np.int64)],
                      name + "_flat")  # (B, k, H*m), index j*m + i
    w = weight.data().asnumpy().reshape(width_out, width_in * num_fields).T  # (H*m, H')
    return graph.add(graph.node("MatMul", [flat, graph.const(w, name + ".weight")], name + "_compress"),
                     graph.param(bias, name + ".bias"), name=name)


def project(graph, layer, h, name="project"):
    """A bias-free ``nn.Dense(flatten=False)`` on the last axis of a 3-d h:
    MatMul(h, W^T)."""
    return graph.node("MatMul", [h, graph.const(layer.weight.data().asnumpy().T, name + ".weight")], name)


def multi_head_self_attention(graph, h, query, key, value, residual, num_heads, head_dim, name="attention"):
    """AutoInt's interacting layer on (B, F, d) field vectors: per head
    softmax(Q K^T) V over fields (Q, K, V: bias-free ``nn.Dense`` projections,
    columns grouped by head), heads concatenated, plus the residual
    (``residual``'s projection of h, or h itself when None), then ReLU:
    (B, F, heads * head_dim)."""
    num_fields, width = graph.num_fields, num_heads * head_dim
    heads_shape = graph.const([0, num_fields, num_heads, head_dim], name + "_heads_shape", np.int64)

    def split(t, part):  # (B, F, heads*d) -> (B, heads, F, d)
        t = graph.node("Reshape", [t, heads_shape], f"{name}_{part}_heads")
        return graph.node("Transpose", [t], f"{name}_{part}_by_head", perm=[0, 2, 1, 3])

    q, k, v = (split(project(graph, layer, h, f"{name}.{part}"), part)
               for layer, part in ((query, "query"), (key, "key"), (value, "value")))
    scores = graph.node("MatMul", [q, graph.node("Transpose", [k], name + "_key_t", perm=[0, 1, 3, 2])],
                        name + "_scores")  # (B, heads, F, F)
    attended = graph.node("MatMul", [graph.node("Softmax", [scores], name + "_weights", axis=-1), v],
                          name + "_attended")  # (B, heads, F, d)
    merged = graph.node("Reshape", [graph.node("Transpose", [attended], name + "_by_field", perm=[0, 2, 1, 3]),
                                    graph.const([0, num_fields, width], name + "_merged_shape", np.int64)],
                        name + "_merged")
    skip = h if residual is None else project(graph, residual, h, name + ".residual")
    return graph.node("Relu", [graph.add(merged, skip, name=name + "_residual")], name)


def platt_calibration(graph, logit, a, b, name="calibrated_logit"):
    """Platt calibration of a (B, 1) logit, a * logit + b (training/calibration.py),
    to go before the sigmoid."""
    scaled = graph.mul(logit, graph.const(a, "platt_a"), "platt_scaled")
    return graph.add(scaled, graph.const(b, "platt_b"), name=name)
