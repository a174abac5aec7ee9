"""The offline default data: deterministic, book-shaped, calibrated to the book's click rate."""
import hashlib
import multiprocessing

import numpy as np
import pytest

from deepfm_gluon.data.ctr_dataset import CTRDataset
from deepfm_gluon.data.synthetic import SyntheticSpec, generate_arrays, generate_synthetic
from deepfm_gluon.errors import DeepFMError


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
    # the book's data has about half positives: its FM loss of 0.504 sits on the
    # double-sigmoid floor 0.693 - 0.380 c only for c >= 0.5
    assert 0.48 < train.labels.mean() < 0.52 and 0.46 < test.labels.mean() < 0.54
    # rare values exist, fall under the threshold, and map to the default index
    defaults = train.offsets + [train.defaults[i + 1] for i in range(34)]
    assert (train.features == defaults).mean() > 0.01


def test_click_rate_follows_the_spec():
    for ctr in (0.2, 0.5):
        _, labels, _ = generate_arrays(SyntheticSpec(num_train=20000, num_test=0, target_ctr=ctr))
        assert abs(labels.mean() - ctr) < 0.02


def test_label_noise_replaces_that_share_of_labels_and_keeps_the_click_rate():
    spec = SyntheticSpec(num_train=40000, num_test=0, label_noise=0.0)
    values, clean, _ = generate_arrays(spec)
    noisy_values, noisy, _ = generate_arrays(SyntheticSpec(num_train=40000, num_test=0, label_noise=0.3))
    assert (noisy_values == values).all()
    # a replaced label differs from the clean one half the time (click rate 0.5)
    assert abs((noisy != clean).mean() - 0.3 * 0.5) < 0.01
    assert abs(noisy.mean() - clean.mean()) < 0.01


def test_parity_fields_are_pairwise_invisible():
    """Fields 0-2 carry a 3-way parity: no pair of them predicts the label by
    itself, while the three together do (what FM cannot model and DeepFM can)."""
    spec = SyntheticSpec(num_train=60000, num_test=0, first_order_scale=0.0, pairwise_scale=0.0,
                         nonlinear_strength=0.0, label_noise=0.0)
    values, labels, _ = generate_arrays(spec)

    def spread(columns):  # largest gap between click rates of the cells these columns form
        cells = np.ravel_multi_index(values[:, columns].T, [spec.interaction_cardinality] * len(columns))
        rates = [labels[cells == c].mean() for c in np.unique(cells)]
        return max(rates) - min(rates)

    assert spread([0, 1]) < 0.1 and spread([1, 2]) < 0.1 and spread([0, 2]) < 0.1
    assert spread([0, 1, 2]) > 0.5


def _generate(folder):
    generate_synthetic(folder, SyntheticSpec(num_train=3000, num_test=500))


def test_concurrent_generation_of_one_folder(tmp_path):
    """Two trainings started at once share the data folder: both succeed, the files are whole."""
    folder = str(tmp_path / "shared")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_generate, args=(folder,)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert digest(folder) == digest(generate_synthetic(str(tmp_path / "alone"),
                                                       SyntheticSpec(num_train=3000, num_test=500)))


def test_specs_the_model_cannot_honour_are_refused():
    for bad in (dict(interaction_cardinality=5), dict(label_noise=1.5), dict(target_ctr=0.0),
                dict(num_fields=10)):
        with pytest.raises(DeepFMError, match="SyntheticSpec"):
            generate_arrays(SyntheticSpec(num_train=100, num_test=10, **bad))
