"""Scoring with the folded table (models/folded.py): the same interface as ``Predictor``.

``FoldedPredictor(model_dir)`` reads, encodes and evaluates exactly as
``Predictor`` does; only the numbers come from the model's folded table
instead of its graph: the same probabilities up to float32 rounding, several
times less arithmetic per example for FM and DeepFM (docs/benchmarks.md).
"""
from ..errors import DeepFMError
from ..models import get_spec
from .predictor import Predictor


class FoldedPredictor(Predictor):
    """A ``Predictor`` whose logits come from ``models.folded.FoldedNet``."""

    engine = "folded"

    def __init__(self, model_dir, ctx=None, batch_size=8192):
        super().__init__(model_dir, ctx=ctx, batch_size=batch_size)
        kind = self.meta["kind"]
        fold = get_spec(kind).fold
        self.folded = fold(self.net) if fold is not None else None
        if self.folded is None:
            raise DeepFMError(f"{model_dir}: --engine folded: model {kind} has no folded table "
                              f"(FM and DeepFM have one, up to 256 MiB); use --engine mxnet")

    def predict_logits(self, features):
        """features: int (n, num_feat) -> float32 (n,) logits (uncalibrated)."""
        return self.folded.logits(features, self.batch_size)

    def predict_features(self, features):
        """features: int (n, num_feat) -> float32 (n,) probabilities, calibrated
        when the model dir has calibration.json."""
        if self.calibrator is not None:
            return self.calibrator.apply(self.predict_logits(features))
        return self.folded.probabilities(features, self.batch_size)
