"""Scoring with ONNX Runtime: the same interface as the MXNet ``Predictor``.

``OnnxPredictor(model_dir)`` reads, encodes and evaluates exactly as
``Predictor`` does; only ``predict_features`` differs: ONNX Runtime runs the
graph that ``export_onnx`` builds from the saved parameters (held in memory,
nothing written). Needs the optional extra ``[serve]``.
"""
import numpy as np

from ..errors import DeepFMError
from .export_onnx import INPUT_NAME, OUTPUT_NAME, net_to_onnx
from .folded_engine import FoldedPredictor
from .predictor import Predictor

ENGINES = ("mxnet", "onnxruntime", "folded")


def import_onnxruntime():
    """onnxruntime, or a one-line error saying how to install it."""
    try:
        import onnxruntime  # start-up: optional extra, imported only when this engine is chosen
    except ImportError:
        raise DeepFMError("the onnxruntime engine needs the serve extra: "
                          "pip install 'deepfm-gluon[serve]'") from None
    return onnxruntime


def onnx_session(model_bytes, threads=None):
    """An ONNX Runtime CPU session for a serialized model."""
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = int(threads)
        # idle workers sleep instead of spinning: the server's event loop shares the cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


class OnnxPredictor(Predictor):
    """A ``Predictor`` whose probabilities come from ONNX Runtime."""

    engine = "onnxruntime"

    def __init__(self, model_dir, ctx=None, batch_size=8192, threads=None):
        import_onnxruntime()  # fail before loading anything when the extra is missing
        super().__init__(model_dir, ctx=ctx, batch_size=batch_size)
        model = net_to_onnx(self.net, self.meta["kind"], calibrator=self.calibrator,
                            where=f"{model_dir}: --engine onnxruntime")
        self.session = onnx_session(model.SerializeToString(), threads)

    def predict_features(self, features):
        """features: int (n, num_fields) indices -> float32 (n,) probabilities."""
        features = np.asarray(features, dtype=np.int64)
        outputs = [self.session.run([OUTPUT_NAME], {INPUT_NAME: features[i:i + self.batch_size]})[0]
                   for i in range(0, len(features), self.batch_size)]
        return np.concatenate([o.ravel() for o in outputs]) if outputs else np.empty(0, np.float32)


def load_predictor(model_dir, engine="mxnet", **kwargs):
    """A ``Predictor`` (MXNet), ``OnnxPredictor`` or ``FoldedPredictor`` (FM
    and DeepFM: their folded table, serving/folded_engine.py) for ``model_dir``."""
    if engine == "mxnet":
        return Predictor(model_dir, **kwargs)
    if engine == "folded":
        return FoldedPredictor(model_dir, **kwargs)
    if engine == "onnxruntime":
        return OnnxPredictor(model_dir, **kwargs)
    raise DeepFMError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
