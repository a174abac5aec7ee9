"""Criteo reader, encoders and cache against a plain-Python oracle."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import criteo_oracle as oracle  # noqa: E402

from deepfm_gluon.data.criteo import (CriteoOptions, CriteoSyntheticSpec, load_criteo,  # noqa: E402
                                      open_cache, write_criteo_synthetic)
from deepfm_gluon.data.tokens import integer_tokens  # noqa: E402
from deepfm_gluon.errors import DataFormatError, DeepFMError  # noqa: E402


@pytest.fixture(scope="module")
def fixture_file(tmp_path_factory):
    """3000 synthetic lines, every 97th malformed (few/many columns, label 2, blank)."""
    path = tmp_path_factory.mktemp("criteo") / "small.txt"
    bad = write_criteo_synthetic(str(path), CriteoSyntheticSpec(num_rows=3000, seed=3, bad_every=97,
                                                                max_cardinality=300))
    return str(path), bad


def load(path, tmp_path, **options):
    folder, meta = open_cache(path, str(tmp_path / "cache"), CriteoOptions(**options))
    features = np.load(os.path.join(folder, "features.npy"))
    labels = np.load(os.path.join(folder, "labels.npy"))
    return features, labels, meta


def test_integer_tokens_match_log_square_rule():
    raw = ["", "-1", "0", "1", "2", "3", "260", "260.0", "17668.0", "abc", "1.5", "1e3", "inf", "-inf", "nan"]
    assert list(integer_tokens(np.array(raw, dtype=object))) == [oracle.int_token(r) for r in raw]
    assert oracle.int_token("3") == "L1" and oracle.int_token("260") == "L30"


def test_vocabulary_encoding_matches_oracle(fixture_file, tmp_path):
    path, bad = fixture_file
    features, labels, meta = load(path, tmp_path, chunk_bytes=20_000)  # many chunk boundaries
    want, want_labels, num_train, dims, want_bad = oracle.encode(path)
    assert want_bad == bad
    np.testing.assert_array_equal(features, np.array(want))
    np.testing.assert_array_equal(labels, np.array(want_labels, dtype=np.float32))
    assert meta["num_train"] == num_train and meta["field_dims"] == dims
    assert meta["num_rows"] == 3000 - len(bad)


def test_bad_lines_are_reported_with_line_numbers(fixture_file, tmp_path):
    path, bad = fixture_file
    _, _, meta = load(path, tmp_path)
    report = meta["skip_report"]
    assert report["skipped"] == len(bad) and report["total_lines"] == 3000
    assert [e[0] for e in report["examples"]] == bad[:len(report["examples"])]
    assert set(report["reasons"]) >= {"blank line", "label '2'"}
    with pytest.raises(DataFormatError) as err:
        load(path, tmp_path, strict=True)
    assert err.value.line == bad[0] and err.value.path == path


def test_chunk_size_and_crlf_do_not_change_the_encoding(fixture_file, tmp_path):
    path, _ = fixture_file
    base, _, _ = load(path, tmp_path / "a")
    small, _, _ = load(path, tmp_path / "b", chunk_bytes=4096)
    crlf = tmp_path / "crlf.txt"
    with open(path, "rb") as f:
        crlf.write_bytes(f.read().replace(b"\n", b"\r\n"))
    windows, _, _ = load(str(crlf), tmp_path / "c")
    np.testing.assert_array_equal(base, small)
    np.testing.assert_array_equal(base, windows)


def test_hashing_is_per_field_stable_and_bounded(fixture_file, tmp_path):
    path, _ = fixture_file
    features, _, meta = load(path, tmp_path / "a", hash_buckets=64)
    again, _, _ = load(path, tmp_path / "b", hash_buckets=64, chunk_bytes=5000)
    np.testing.assert_array_equal(features, again)
    assert meta["field_dims"] == [64] * 39 and meta["encoding"] == "hash"
    local = features - np.arange(39) * 64
    assert local.min() >= 0 and local.max() < 64
    rows, _ = oracle.good_rows(path)
    tokens = np.array([r[2] for r in rows], dtype=object)
    for f in (0, 20):  # equal tokens share a bucket
        by_token = {}
        for tok, bucket in zip(tokens[:, f], local[:, f]):
            assert by_token.setdefault(tok, bucket) == bucket


def test_cache_is_reused_and_invalidated_by_changes(fixture_file, tmp_path):
    path, _ = fixture_file
    copy = tmp_path / "copy.txt"
    with open(path, "rb") as f:
        copy.write_bytes(f.read())
    cache = str(tmp_path / "cache")
    first, meta1 = open_cache(str(copy), cache)
    second, meta2 = open_cache(str(copy), cache)
    assert first == second and meta1 == meta2
    other, _ = open_cache(str(copy), cache, CriteoOptions(min_threshold=2))
    assert other != first
    os.utime(copy, ns=(1, 1))
    third, _ = open_cache(str(copy), cache)
    assert third != first
    assert not [n for n in os.listdir(cache) if n.startswith(".")]  # no half-built caches


def test_split_is_last_tenth_of_lines(fixture_file, tmp_path):
    path, bad = fixture_file
    train, test = load_criteo(path, str(tmp_path / "cache"))
    assert len(train) + len(test) == 3000 - len(bad)
    assert len(train) == sum(1 for n in range(1, 2701) if n not in bad)
    assert train.skip_report.skipped == len(bad) and "skipped" in train.skip_report.summary()
    X, y = test[0]
    assert X.shape == (39,) and y.shape == (1,)


def test_empty_and_all_bad_files_are_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(DeepFMError):
        open_cache(str(empty), str(tmp_path / "c"))
    junk = tmp_path / "junk.txt"
    junk.write_text("x\ty\n1\t2\n")
    with pytest.raises(DataFormatError, match="no valid line"):
        open_cache(str(junk), str(tmp_path / "c"))
    with pytest.raises(DeepFMError, match="no such file"):
        open_cache(str(tmp_path / "missing.txt"), str(tmp_path / "c"))


def test_synthetic_generator_is_deterministic(tmp_path):
    spec = CriteoSyntheticSpec(num_rows=500, seed=7, max_cardinality=100)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    write_criteo_synthetic(str(a), spec)
    write_criteo_synthetic(str(b), spec)
    data = a.read_bytes()
    assert data == b.read_bytes() and not data.endswith(b"\n")
    lines = data.decode().split("\n")
    assert len(lines) == 500 and all(len(line.split("\t")) == 40 for line in lines)
    assert any(line.split("\t")[1] == "" for line in lines)  # empty integer cells
    assert any(line.split("\t")[30] == "" for line in lines)  # empty categorical cells


def test_long_and_non_ascii_tokens_match_oracle(tmp_path):
    """Cells over 8 bytes take the hashed-key path; their text must survive."""
    rng = np.random.default_rng(0)
    words = ["a-very-long-token-%d" % i for i in range(3)] + ["café", "x", "12345678", ""]
    lines = []
    for i in range(60):
        ints = [str(v) for v in rng.integers(-1, 5000, 13)]
        cats = [words[rng.integers(0, len(words))] for _ in range(26)]
        lines.append("\t".join([str(i % 2)] + ints + cats))
    path = tmp_path / "long.txt"
    path.write_bytes("\n".join(lines).encode("utf-8"))
    features, _, meta = load(str(path), tmp_path, chunk_bytes=1000)
    want, _, _, dims, _ = oracle.encode(str(path))
    np.testing.assert_array_equal(features, np.array(want))
    assert meta["field_dims"] == dims
    train, _ = load_criteo(str(path), str(tmp_path / "c2"))
    assert "a-very-long-token-0" in train.encoder.vocabularies[13] and "café" in train.encoder.vocabularies[13]
