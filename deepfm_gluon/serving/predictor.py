"""Scoring new files with a saved model and its training-time encoder."""
import mxnet as mx

import numpy as np

from ..data.reader import has_label_column, parse_ctr_lines, read_text_lines
from ..data.sources import input_path
from ..errors import DataFormatError, ModelDirError
from ..models import LogitView
from ..models.inference import hybridize_for_inference
from ..training.calibration import load_calibration
from ..training.loop import predict_logits
from ..training.metrics import score
from .criteo_scoring import evaluate_table_file, table_schema
from .model_dir import load_model_dir


class Predictor:
    """A loaded model plus the encoder that turns raw lines into its inputs."""

    def __init__(self, model_dir, ctx=None, batch_size=8192, calibrated=True):
        self.ctx = ctx or mx.cpu()
        self.net, self.meta, self.encoder = load_model_dir(model_dir, ctx=self.ctx)
        # calibration.json (train --calibrate): applied to every probability this predictor returns
        self.calibrator = load_calibration(model_dir) if calibrated else None
        self.logit_net = LogitView(self.net)
        hybridize_for_inference(self.logit_net)  # fused FC+ReLU, no Dropout: prediction only
        # A model of a table source (Criteo, Avazu, CSV) reads raw lines of its
        # format, streamed (serving/criteo_scoring.py); None: d2l-format lines
        self.table = table_schema(self.encoder)
        hybridize_for_inference(self.net)  # fused FC+ReLU, no Dropout: prediction only
        self.num_feat = self.encoder.num_fields
        self.field_dims = self.encoder.field_dims
        self.batch_size = batch_size

    def encode(self, values):
        """values: str (n, num_feat) raw field values -> int32 (n, num_feat) indices."""
        return self.encoder.encode(values)

    def read(self, path, strict=False):
        """(features int32 (n, num_feat), labels float32 (n,) or None, skip
        report) of a d2l-format file; the label column is optional."""
        features, labels, report, _, _ = self.read_rows(path, strict)
        return features, labels, report

    def read_rows(self, path, strict=False):
        """``read`` plus rows int64 (n,) (the input line of each feature row)
        and the input's line count; ``path`` is read once (``-``, pipes, FIFOs work)."""
        path = input_path(path)
        lines = read_text_lines(path)
        with_label = has_label_column(path, lines, self.num_feat)
        labels, values, report, rows = parse_ctr_lines(path, lines, self.num_feat, strict, with_label)
        return self.encode(values), labels, report, rows, len(lines)

    def predict_aligned(self, path, strict=False):
        """(float64 (num_lines,) probabilities, one per input line, NaN where
        a line was malformed; skip report)."""
        features, _, report, rows, num_lines = self.read_rows(path, strict)
        probs = np.full(num_lines, np.nan)
        probs[rows] = self.predict_features(features)
        return probs, report

    def predict_features(self, features):
        """features: int32 (n, num_feat) -> float probabilities (n,): exactly
        the saved net's output, or with calibration.json its calibrated logit."""
        if self.calibrator is not None:
            return self.calibrator.apply(self.predict_logits(features))
        return predict_logits(self.net, features, self.ctx, self.batch_size)

    def predict_logits(self, features):
        """features: int32 (n, num_feat) -> float32 (n,) logits of the saved net (uncalibrated)."""
        return predict_logits(self.logit_net, features, self.ctx, self.batch_size)

    def evaluate_file(self, path, strict=False):
        """Every metric of ``training.metrics.METRICS`` and the skipped lines of a
        labelled d2l-format file (or, for a table model, a labelled file of its format); ``path``
        may carry its source prefix (``criteo:F``)."""
        path = input_path(path)
        if self.table is not None:
            return evaluate_table_file(self, path, strict)
        features, labels, report = self.read(path, strict)
        if labels is None:
            raise DataFormatError(path, 1, "no label column", "label then the fields, to evaluate")
        probs = self.predict_features(features)
        return {"examples": int(len(labels)), **score(labels, probs),
                "skipped_lines": report.skipped, "skip_report": report.to_dict()}
