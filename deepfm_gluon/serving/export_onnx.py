"""Any registered model as an ONNX graph, from its trained parameters.

Each model file writes its own logit with the shared blocks of
``models/onnx_layers.py`` (its ``MODEL.onnx``); this module is the same for
every model:

    x: int64 (batch, num_fields) feature indices (field offsets added, as in training)
    logit = spec.onnx(net, graph)                               (batch, 1)
    [calibrated: logit = a * logit + b, Platt, from calibration.json]
    click_probability = Sigmoid(logit)                          (batch, 1) float32
    + metadata_props, then onnx.checker (full check)

Opset 17, IR version 8, dynamic batch (see ``models/onnx_layers.py``). A
model whose spec has no ``onnx`` function is refused in one line; its
MXNet export (``--format mxnet``) still works.
"""
from ..errors import DeepFMError
from ..models.onnx_layers import INPUT_NAME, IR_VERSION, OPSET, OUTPUT_NAME, OnnxGraph, platt_calibration
from ..models.registry import get_spec

__all__ = ["INPUT_NAME", "IR_VERSION", "OPSET", "OUTPUT_NAME", "net_to_onnx"]


def platt_parameters(calibrator, where):
    """The Platt formula's {"a", "b"} of a Calibrator (training/calibration.py)
    for the graph (None without calibration); an isotonic one is refused in one line."""
    if calibrator is None:
        return None
    if calibrator.method != "platt":
        raise DeepFMError(f"{where}: {calibrator.method} calibration is a lookup table that this ONNX "
                          "export does not express; use --engine mxnet, or train with --calibrate platt")
    return calibrator.params


def net_to_onnx(net, kind, metadata=None, calibrator=None, where="calibration.json"):
    """An ``onnx.ModelProto`` computing the click probability of ``net`` (a
    loaded model of registered ``kind``), calibrated by ``calibrator``'s Platt
    formula if given; ``metadata`` (str -> str) goes into metadata_props."""
    platt = platt_parameters(calibrator, where)  # refuse isotonic before building anything
    spec = get_spec(kind)
    if spec.onnx is None:
        raise DeepFMError(f"model {kind} has no ONNX graph (its MODEL declares no onnx function); "
                          f"export it with --format mxnet")
    num_fields = len(net.config()["field_dims"])
    graph = OnnxGraph(num_fields)
    logit = spec.onnx(net, graph)
    if platt is not None:
        logit = platt_calibration(graph, logit, platt["a"], platt["b"])
    graph.node("Sigmoid", [logit], OUTPUT_NAME)
    return graph.model(OUTPUT_NAME, metadata, graph_name=f"deepfm_gluon_{kind}",
                       doc=f"{kind}: click probability from int64 (batch, {num_fields}) feature indices")
