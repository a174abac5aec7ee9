"""Encoders: saved and loaded they encode alike; they encode raw values exactly
as CTRDataset (and d2l's CTRDataset) and the Criteo cache do; the hashing spec
in plain Python (criteo_oracle) gives the same indices; both data sets
implement the CTRData protocol."""
import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import criteo_oracle as oracle  # noqa: E402

from d2l import mxnet as d2l  # noqa: E402
from deepfm_gluon import CTRDataset  # noqa: E402
from deepfm_gluon.data import CTRData, HashingEncoder, VocabularyEncoder, load_encoder  # noqa: E402
from deepfm_gluon.data.criteo import (CriteoDataset, CriteoOptions, CriteoSyntheticSpec,  # noqa: E402
                                      load_criteo, write_criteo_synthetic)
from deepfm_gluon.data.encoders import EncoderFormatError  # noqa: E402
from deepfm_gluon.data.reader import read_ctr_columns  # noqa: E402
from tests.conftest import write_lines  # noqa: E402
from tests.data.test_ctr_dataset_oracle import NUM_FEAT, d2l_encoded, make_lines  # noqa: E402


@pytest.fixture(scope="module")
def d2l_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("ctr")
    test = make_lines(2, 200, vocab_shift=3)  # some values never seen in training
    return write_lines(root / "train.csv", make_lines(0, 600)), write_lines(root / "test.csv", test)


def raw_values(path, num_feat=NUM_FEAT):
    return read_ctr_columns(path, num_feat)[1]


def raw_criteo_cells(path):
    """The 39 raw cells of each valid line (plain Python, like a client)."""
    cells = []
    for line in open(path, encoding="utf-8").read().split("\n"):
        parts = line.split("\t")
        if len(parts) == 40 and parts[0] in ("0", "1"):
            cells.append(parts[1:])
    return np.array(cells, dtype=object)


@pytest.fixture(scope="module")
def criteo_file(tmp_path_factory):
    """Synthetic Criteo lines plus lines with long, non-ASCII and non-numeric cells."""
    root = tmp_path_factory.mktemp("criteo")
    path = root / "mixed.txt"
    write_criteo_synthetic(str(path), CriteoSyntheticSpec(num_rows=800, seed=5, max_cardinality=60,
                                                          bad_every=101))
    rng = np.random.default_rng(0)
    words = ["a-very-long-token-%d" % i for i in range(3)] + ["café", "x", "12345678", "", "ünïcödé-long"]
    ints = ["", "-1", "0", "2", "3", "260", "260.0", "1.5", "abc", "17668"]
    extra = ["\t".join([str(i % 2)] + [ints[j] for j in rng.integers(0, len(ints), 13)]
                       + [words[j] for j in rng.integers(0, len(words), 26)]) for i in range(120)]
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n" + "\n".join(extra) + "\n")
    return str(path)


def test_vocabulary_encoder_encodes_like_ctr_dataset(d2l_files):
    train = CTRDataset(d2l_files[0])
    test = CTRDataset(d2l_files[1], feat_mapper=train.feat_mapper, defaults=train.defaults)
    encoder = train.encoder
    assert isinstance(encoder, VocabularyEncoder)
    np.testing.assert_array_equal(encoder.field_dims, train.field_dims)
    np.testing.assert_array_equal(encoder.encode(raw_values(d2l_files[0])), train.features)
    np.testing.assert_array_equal(encoder.encode(raw_values(d2l_files[1])), test.features)
    assert train.features.dtype == test.features.dtype == np.int32


def test_vocabulary_encoder_with_d2l_mapping_encodes_like_d2l(d2l_files):
    """d2l's own CTRDataset is the oracle: its mapping, our encoder, its arrays."""
    theirs_train = d2l.CTRDataset(d2l_files[0])
    theirs = d2l.CTRDataset(d2l_files[1], feat_mapper=theirs_train.feat_mapper,
                            defaults=theirs_train.defaults)
    encoder = VocabularyEncoder.from_feat_mapper(theirs_train.feat_mapper, theirs_train.defaults)
    np.testing.assert_array_equal(encoder.encode(raw_values(d2l_files[1])), d2l_encoded(theirs))


def test_save_load_round_trip_gives_identical_indices(d2l_files, criteo_file, tmp_path):
    values = raw_values(d2l_files[1])
    vocab = CTRDataset(d2l_files[0]).encoder
    hashing = HashingEncoder(97, [f"f{i}" for i in range(NUM_FEAT)])
    for name, encoder in (("vocab", vocab), ("hash", hashing)):
        path = encoder.save(tmp_path / f"{name}.json")
        again = type(encoder).load(path)
        assert again == encoder and load_encoder(path) == encoder
        np.testing.assert_array_equal(again.encode(values), encoder.encode(values))
        assert type(encoder).from_dict(json.loads(json.dumps(encoder.to_dict()))) == encoder
    train, _ = load_criteo(criteo_file, str(tmp_path / "cache"))
    cells = raw_criteo_cells(criteo_file)
    again = load_encoder(train.encoder.save(tmp_path / "criteo.json"))
    np.testing.assert_array_equal(again.encode(cells), train.encoder.encode(cells))


@pytest.mark.parametrize("buckets", [0, 64])
def test_criteo_encoders_encode_raw_lines_like_the_cache(criteo_file, tmp_path, buckets):
    train, test = load_criteo(criteo_file, str(tmp_path / "cache"), CriteoOptions(hash_buckets=buckets))
    cells = raw_criteo_cells(criteo_file)
    cached = np.concatenate([np.asarray(train.features), np.asarray(test.features)])
    assert len(cells) == len(cached)
    encoder = load_encoder(os.path.join(train.folder, "encoder.json"))
    assert isinstance(encoder, HashingEncoder if buckets else VocabularyEncoder)
    np.testing.assert_array_equal(encoder.encode(cells), cached)
    np.testing.assert_array_equal(encoder.field_dims, train.field_dims)


def test_hashing_spec_in_plain_python_gives_the_cache_indices(criteo_file, tmp_path):
    """docs/encoder.md's hashing rule, implemented from SipHash-2-4 and
    splitmix64 alone (criteo_oracle), reproduces the cache cell for cell."""
    train, test = load_criteo(criteo_file, str(tmp_path / "cache"), CriteoOptions(hash_buckets=1000))
    cells = raw_criteo_cells(criteo_file)
    cached = np.concatenate([np.asarray(train.features), np.asarray(test.features)])
    memo = {}
    want = [[memo.setdefault((f, v), oracle.hash_index(f, v, 1000)) for f, v in enumerate(row)]
            for row in cells]
    np.testing.assert_array_equal(cached, np.array(want))


def test_both_data_sets_implement_the_protocol(d2l_files, criteo_file, tmp_path):
    train, _ = load_criteo(criteo_file, str(tmp_path / "cache"))
    for data in (CTRDataset(d2l_files[0]), train):
        assert isinstance(data, CTRData)
        assert data.features.dtype == np.int32 and data.features.shape == (len(data), len(data.field_dims))
        assert data.labels.dtype == np.float32 and data.labels.shape == (len(data),)
        assert data.field_dims.dtype == np.int64
        assert int(data.features.max()) < int(data.field_dims.sum())
    assert isinstance(train, CriteoDataset) and not hasattr(train, "feat_mapper")
    assert not hasattr(train, "NUM_FEATS")


@pytest.mark.parametrize("change,message", [
    ({"format": "other"}, "not a deepfm-gluon encoder"),
    ({"format_version": 2}, "format version 2"),
    ({"kind": "magic"}, "unknown encoder kind"),
    ({"fields": []}, "non-empty list"),
])
def test_bad_encoder_json_is_a_clear_error(tmp_path, change, message):
    data = HashingEncoder(8, ["a", "b"]).to_dict()
    data.update(change)
    path = tmp_path / "enc.json"
    path.write_text(json.dumps(data))
    with pytest.raises(EncoderFormatError, match=message):
        load_encoder(path)


def test_bad_vocabulary_entries_are_refused():
    good = VocabularyEncoder([{"x": 0}], [1]).to_dict()
    for field_change, message in (({"default": 5}, "outside"), ({"vocabulary": {"x": 3}}, "indices"),
                                  ({"transform": "rot13"}, "unknown field transform")):
        data = json.loads(json.dumps(good))
        data["fields"][0].update(field_change)
        with pytest.raises(EncoderFormatError, match=message):
            VocabularyEncoder.from_dict(data)
    with pytest.raises(EncoderFormatError, match="holds a vocabulary encoder"):
        HashingEncoder.from_dict(good)
