"""Our CTRDataset against d2l.mxnet.CTRDataset (the oracle) on generated files
with rare values, values unseen in training and shuffled value orders."""
import numpy as onp
import pytest

from d2l import mxnet as d2l
from deepfm_gluon import CTRDataset
from tests.conftest import write_lines

NUM_FEAT = 34


def make_lines(seed, n, vocab_shift=0):
    rng = onp.random.default_rng(seed)
    lines = []
    for _ in range(n):
        label = str(rng.integers(0, 2))
        # Zipf-ish values so that some fall under the threshold of 4.
        vals = [f"v{f}_{int(rng.zipf(1.6)) % 50 + vocab_shift}" for f in range(NUM_FEAT)]
        lines.append("\t".join([label] + vals))
    return lines


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("ctr")
    train = make_lines(0, 600)
    onp.random.default_rng(1).shuffle(train)
    test = make_lines(2, 200, vocab_shift=3)  # shifted: some values never seen in training
    return write_lines(root / "train.csv", train), write_lines(root / "test.csv", test)


def d2l_encoded(dataset):
    return onp.stack([dataset[i][0].asnumpy() for i in range(len(dataset))]).astype(onp.int64)


def test_same_vocabulary_defaults_and_dims_as_d2l(files):
    ours, theirs = CTRDataset(files[0]), d2l.CTRDataset(files[0])
    assert len(ours) == len(theirs)
    assert ours.defaults == theirs.defaults
    assert list(ours.field_dims) == [int(d) for d in theirs.field_dims.asnumpy()]
    assert list(ours.offsets) == [int(o) for o in theirs.offsets.asnumpy()]
    for field in range(1, NUM_FEAT + 1):
        assert set(ours.feat_mapper[field]) == set(theirs.feat_mapper[field])
        assert sorted(ours.feat_mapper[field].values()) == sorted(theirs.feat_mapper[field].values())


def test_encodings_equal_d2l_up_to_its_index_order(files):
    """d2l numbers kept values in set order (hash-seed dependent); we number
    them in sorted order. Through each field's relabelling the arrays agree."""
    ours, theirs = CTRDataset(files[0]), d2l.CTRDataset(files[0])
    relabel = onp.arange(int(ours.field_dims.sum()))
    for field in range(1, NUM_FEAT + 1):
        base = ours.offsets[field - 1]
        for value, idx in ours.feat_mapper[field].items():
            relabel[base + idx] = base + theirs.feat_mapper[field][value]
    onp.testing.assert_array_equal(relabel[ours.features], d2l_encoded(theirs))
    labels = onp.array([theirs[i][1][0] for i in range(len(theirs))], dtype=onp.float32)
    onp.testing.assert_array_equal(ours.labels, labels)


def test_test_set_with_d2l_mapping_is_identical(files):
    """Given d2l's own mapping, the encoded test arrays are exactly d2l's."""
    train = d2l.CTRDataset(files[0])
    theirs = d2l.CTRDataset(files[1], feat_mapper=train.feat_mapper, defaults=train.defaults)
    ours = CTRDataset(files[1], feat_mapper=train.feat_mapper, defaults=train.defaults)
    assert ours.feat_mapper == theirs.feat_mapper and ours.defaults == theirs.defaults
    assert list(ours.field_dims) == [int(d) for d in theirs.field_dims.asnumpy()]
    onp.testing.assert_array_equal(ours.features, d2l_encoded(theirs))
    # unseen values exist and go to the per-field default
    defaults_hit = ours.features == (ours.offsets + onp.array([ours.defaults[i + 1] for i in range(NUM_FEAT)]))
    assert defaults_hit.any()


def test_mapping_ignores_row_order(files, tmp_path):
    lines = open(files[0]).read().splitlines()
    shuffled = write_lines(tmp_path / "shuffled.csv", list(reversed(lines)))
    assert CTRDataset(shuffled).feat_mapper == CTRDataset(files[0]).feat_mapper


def test_item_format_like_d2l(files):
    ours = CTRDataset(files[0])
    x, y = ours[3]
    assert x.shape == (NUM_FEAT,) and y.shape == (1,) and y.dtype == onp.float32
