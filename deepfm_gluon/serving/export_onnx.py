"""FM and DeepFM as an ONNX graph, built directly from the trained parameters.

MXNet 1.9.1's ONNX exporter has no converters for numpy-mode ops (``_npi_*``,
``_npx_sigmoid``), so the graph is written here with ``onnx.helper``: the
chapter's formula in standard ops, nothing MXNet-specific.

    x: int64 (batch, num_fields) feature indices (field offsets added, as in training)
    E = Gather(embedding, x)              (batch, num_fields, k)
    linear = Gemm(ReduceSum(Gather(fc, x)), linear_layer)          (batch, 1)
    fm = 0.5 * (ReduceSum((sum_f E_f)^2) - ReduceSum(E * E))       (batch, 1)
    mlp = [Gemm + Relu]* then Gemm over reshape(E, (batch, F*k))   (DeepFM)
    probability = Sigmoid(linear + fm [+ mlp])                     (batch, 1) float32

Opset 17 (ONNX 1.12+, every ONNX Runtime since 1.12, onnxruntime-node and
onnxruntime-web included); IR version 8. The batch dimension is dynamic.
The builder needs only the parameters and field count, never the data kind.
"""
import numpy as np

OPSET = 17
IR_VERSION = 8
INPUT_NAME, OUTPUT_NAME = "feature_indices", "click_probability"


def model_parameters(net):
    """The trained arrays of an FM or DeepFM, as float32 numpy, by the book's
    children: embedding (N, k), fc (N, 1), linear_layer w (1, 1) and b (1,),
    and for DeepFM the MLP's Dense layers as (weight (out, in), bias (out,), relu)."""
    from mxnet.gluon import nn  # start-up: only when exporting, keeps `import deepfm_gluon.serving` light

    def array(param):
        return param.data().asnumpy().astype(np.float32)

    params = {"num_fields": int(net.num_fields), "num_factors": int(net.num_factors),
              "embedding": array(net.embedding.weight), "fc": array(net.fc.weight),
              "linear_w": array(net.linear_layer.weight), "linear_b": array(net.linear_layer.bias),
              "mlp": []}
    for layer in getattr(net, "mlp", ()):
        if isinstance(layer, nn.Dense):  # Dropout is the identity when predicting
            # DeepFM's hidden layers are Dense(relu), its last one has no activation
            params["mlp"].append((array(layer.weight), array(layer.bias), layer.act is not None))
    return params


def build_onnx_model(params, kind="deepfm", metadata=None):
    """An ``onnx.ModelProto`` computing the net's click probability from ``params``
    (see ``model_parameters``); ``metadata`` (str -> str) goes into metadata_props."""
    # start-up: optional extra [serve], imported only when exporting
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    num_fields, num_factors = params["num_fields"], params["num_factors"]
    inits, nodes = [], []

    def const(name, value, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(op, inputs, output, **attrs):
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    x = INPUT_NAME
    embed = node("Gather", [const("embedding.weight", params["embedding"]), x], "embed")
    weights = node("Gather", [const("fc.weight", params["fc"]), x], "linear_weights")
    axis1 = const("axis_1", [1], np.int64)
    flat = node("Reshape", [embed, const("flat_shape", [-1, num_fields * num_factors], np.int64)],
                "embed_flat")  # (B, F*k)
    first_sum = node("ReduceSum", [weights, axis1], "linear_sum", keepdims=0)  # (B, 1)
    linear = node("Gemm", [first_sum, const("linear_layer.weight", params["linear_w"]),
                           const("linear_layer.bias", params["linear_b"])], "linear", transB=1)
    summed = node("ReduceSum", [embed, axis1], "field_sum", keepdims=0)  # (B, k)
    square_of_sum = node("ReduceSum", [node("Mul", [summed, summed], "field_sum_sq"), axis1],
                         "square_of_sum", keepdims=1)  # (B, 1)
    sum_of_square = node("ReduceSum", [node("Mul", [flat, flat], "embed_sq"), axis1],
                         "sum_of_square", keepdims=1)  # (B, 1)
    diff = node("Sub", [square_of_sum, sum_of_square], "fm_diff")
    logit = node("Add", [linear, node("Mul", [diff, const("half", 0.5)], "fm_second_order")],
                 "fm_logit")
    if params["mlp"]:
        h = flat
        for i, (weight, bias, relu) in enumerate(params["mlp"]):
            h = node("Gemm", [h, const(f"mlp.{i}.weight", weight), const(f"mlp.{i}.bias", bias)],
                     f"mlp_{i}", transB=1)
            if relu:
                h = node("Relu", [h], f"mlp_{i}_relu")
        logit = node("Add", [logit, h], "logit")
    node("Sigmoid", [logit], OUTPUT_NAME)

    graph = helper.make_graph(
        nodes, f"deepfm_gluon_{kind}",
        [helper.make_tensor_value_info(x, TensorProto.INT64, ["batch", num_fields])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", 1])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="deepfm-gluon", ir_version=IR_VERSION,
                              doc_string=f"{kind}: click probability from int64 (batch, "
                                         f"{num_fields}) feature indices")
    helper.set_model_props(model, {k: str(v) for k, v in (metadata or {}).items()})
    onnx.checker.check_model(model, full_check=True)
    return model


def net_to_onnx(net, kind, metadata=None):
    """``build_onnx_model`` of a loaded FM or DeepFM."""
    return build_onnx_model(model_parameters(net), kind, metadata)
