"""Small trained model dirs (FM and DeepFM on the book's format, an FM hashing
Criteo fields), shared by the export and server tests."""
import pytest
from mxnet import np

from deepfm_gluon.data.criteo import CriteoOptions, CriteoSyntheticSpec, write_criteo_synthetic
from deepfm_gluon.data.sources import load_criteo_split
from deepfm_gluon.experiments.runner import train_model
from deepfm_gluon.serving.encoder_json import model_encoder
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


@pytest.fixture(scope="session")
def hashing_model(tmp_path_factory):
    """(model dir, raw rows (lists of 39 str) of its training file, the trained
    net's probabilities for them): an FM on a small synthetic Criteo file,
    feature hashing into 50 buckets per field (no vocabulary)."""
    tmp = tmp_path_factory.mktemp("hashing")
    path = str(tmp / "day_0")
    write_criteo_synthetic(path, CriteoSyntheticSpec(num_rows=300, seed=5, max_cardinality=40))
    split = load_criteo_split(f"criteo:{path}", str(tmp / "data"), options=CriteoOptions(hash_buckets=50),
                              log=lambda m: None)
    out = str(tmp / "model")
    net, _, _ = train_model("fm", split, TrainConfig(epochs=1, batch_size=64, progress=False),
                            out_dir=out, log=None)
    rows = [line.split("\t")[1:] for line in open(path).read().splitlines()]
    probs = net(np.array(model_encoder(out).encode(rows), dtype="int32")).asnumpy().ravel()
    return out, rows, probs
