"""Any registered model as an ONNX graph, from its trained parameters.

Each model file writes its own logit with the shared blocks of
``models/onnx_layers.py`` (its ``MODEL.onnx``); this module is the same for
every model:

    x: int64 (batch, num_fields) feature indices (field offsets added, as in training)
    logit = spec.onnx(net, graph)                               (batch, 1)
    click_probability = Sigmoid(logit)                          (batch, 1) float32
    + metadata_props, then onnx.checker (full check)

Opset 17, IR version 8, dynamic batch (see ``models/onnx_layers.py``). A
model whose spec has no ``onnx`` function is refused in one line; its
MXNet export (``--format mxnet``) still works.
"""
from ..errors import DeepFMError
from ..models.onnx_layers import INPUT_NAME, IR_VERSION, OPSET, OUTPUT_NAME, OnnxGraph
from ..models.registry import get_spec

__all__ = ["INPUT_NAME", "IR_VERSION", "OPSET", "OUTPUT_NAME", "net_to_onnx"]


def net_to_onnx(net, kind, metadata=None):
    """An ``onnx.ModelProto`` computing the click probability of ``net`` (a
    loaded model of registered ``kind``); ``metadata`` (str -> str) goes into
    metadata_props."""
    spec = get_spec(kind)
    if spec.onnx is None:
        raise DeepFMError(f"model {kind} has no ONNX graph (its MODEL declares no onnx function); "
                          f"export it with --format mxnet")
    num_fields = len(net.config()["field_dims"])
    graph = OnnxGraph(num_fields)
    logit = spec.onnx(net, graph)
    graph.node("Sigmoid", [logit], OUTPUT_NAME)
    return graph.model(OUTPUT_NAME, metadata, graph_name=f"deepfm_gluon_{kind}",
                       doc=f"{kind}: click probability from int64 (batch, {num_fields}) feature indices")
