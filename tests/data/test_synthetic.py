"""The offline default data: deterministic and book-shaped."""
import hashlib

from deepfm_gluon.data.ctr_dataset import CTRDataset
from deepfm_gluon.data.synthetic import SyntheticSpec, generate_synthetic


def digest(folder):
    return [hashlib.sha1(open(f"{folder}/{n}", "rb").read()).hexdigest() for n in ("train.csv", "test.csv")]


def test_same_spec_same_bytes(tmp_path):
    spec = SyntheticSpec(num_train=500, num_test=100)
    assert digest(generate_synthetic(str(tmp_path / "a"), spec)) == digest(generate_synthetic(str(tmp_path / "b"), spec))
    assert digest(generate_synthetic(str(tmp_path / "c"), SyntheticSpec(num_train=500, num_test=100, seed=1))) \
        != digest(str(tmp_path / "a"))


def test_default_is_book_shaped(tmp_path):
    folder = generate_synthetic(str(tmp_path))
    train = CTRDataset(f"{folder}/train.csv")
    test = CTRDataset(f"{folder}/test.csv", train.feat_mapper, train.defaults)
    assert (len(train), len(test)) == (15000, 3000)
    assert train.features.shape[1] == 34
    assert 3000 <= int(train.field_dims.sum()) <= 4500  # the book's data: about 3800
    assert 0.25 < train.labels.mean() < 0.35
    # rare values exist, fall under the threshold, and map to the default index
    defaults = train.offsets + [train.defaults[i + 1] for i in range(34)]
    assert (train.features == defaults).mean() > 0.01
