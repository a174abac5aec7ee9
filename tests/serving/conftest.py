"""Small trained FM and DeepFM model dirs, shared by the export and server tests."""
import pytest

from deepfm_gluon.experiments.runner import train_model
from deepfm_gluon.training import TrainConfig


@pytest.fixture(scope="session")
def trained_models(small_split, tmp_path_factory):
    """{kind: (net, model_dir)}, one epoch each on the small synthetic split."""
    models = {}
    for kind in ("fm", "deepfm"):
        out = str(tmp_path_factory.mktemp(f"serve_{kind}"))
        net, _, _ = train_model(kind, small_split, TrainConfig(epochs=1, progress=False),
                                out_dir=out, log=None)
        models[kind] = (net, out)
    return models
