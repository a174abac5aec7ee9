"""`predict --engine folded`: the FM and DeepFM folded tables behind the
Predictor interface score files like the MXNet graph (up to float32 rounding)."""
import numpy as onp
import pytest
from mxnet import np

from deepfm_gluon.cli import main
from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.models import folded
from deepfm_gluon.serving.folded_engine import FoldedPredictor
from deepfm_gluon.serving.onnx_engine import load_predictor
from deepfm_gluon.serving.predictor import Predictor


@pytest.mark.parametrize("kind", ["fm", "deepfm"])
def test_folded_engine_scores_files_like_the_trained_net(kind, trained_models, small_split, tmp_path):
    net, model_dir = trained_models[kind]
    out = str(tmp_path / "folded.txt")
    assert main(["predict", "--model-dir", model_dir, "--input", small_split.test.data_path,
                 "--output", out, "--engine", "folded"]) == 0
    expected = net(np.array(small_split.test.features, dtype="int32")).asnumpy().ravel()
    onp.testing.assert_allclose(onp.loadtxt(out), expected, rtol=0, atol=1e-6)
    scores = load_predictor(model_dir, "folded").evaluate_file(small_split.test.data_path)
    reference = Predictor(model_dir).evaluate_file(small_split.test.data_path)
    assert scores["examples"] == reference["examples"] == len(small_split.test)
    assert scores["auc"] == pytest.approx(reference["auc"], abs=1e-6)
    assert scores["logloss"] == pytest.approx(reference["logloss"], abs=1e-6)


def test_folded_engine_refuses_a_table_it_cannot_fold(trained_models, monkeypatch):
    monkeypatch.setattr(folded, "MAX_FOLDED_TABLE_BYTES", 0)
    with pytest.raises(DeepFMError, match="--engine folded: model fm has no folded table"):
        FoldedPredictor(trained_models["fm"][1])
