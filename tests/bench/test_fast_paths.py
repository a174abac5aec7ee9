"""The fast paths the benchmarks measure give exactly what the careful paths give."""
from unittest import mock

import numpy as np
import pytest

from deepfm_gluon.data import ctr_dataset, fastparse
from deepfm_gluon.data.ctr_dataset import CTRDataset
from deepfm_gluon.data.fastparse import read_clean_codes

TOKENS = ["", "a", "ab", "abc", "abcdefgh", "abcdefghi", "abcdefghijklmnop", "0", "00", "10",
          "9", "zzzzzzzzzzzz", "A", "b_", "~"]


def _write(path, rows, final_newline=True, line_end="\n"):
    text = line_end.join("\t".join(r) for r in rows) + (line_end if final_newline else "")
    path.write_bytes(text.encode("utf-8"))
    return path


def _rows(n, num_feat, seed, tokens=TOKENS):
    rng = np.random.default_rng(seed)
    return [[str(rng.integers(0, 2))] + [tokens[j] for j in rng.integers(0, len(tokens), num_feat)]
            for _ in range(n)]


def _both(train, test, num_feat, **kw):
    fast = CTRDataset(train, num_feat=num_feat, **kw)
    fast_test = CTRDataset(test, fast.feat_mapper, fast.defaults, num_feat=num_feat)
    with mock.patch.object(ctr_dataset, "read_clean_codes", lambda *a, **k: None):
        slow = CTRDataset(train, num_feat=num_feat, **kw)
        slow_test = CTRDataset(test, slow.feat_mapper, slow.defaults, num_feat=num_feat)
    return fast, fast_test, slow, slow_test


@pytest.mark.parametrize("small_column", [fastparse.SMALL_COLUMN, 0])  # np.unique, pandas
@pytest.mark.parametrize("final_newline", [True, False])
def test_clean_files_encode_exactly_as_the_line_reader(tmp_path, final_newline, small_column,
                                                      monkeypatch):
    monkeypatch.setattr(fastparse, "SMALL_COLUMN", small_column)
    train = _write(tmp_path / "train.csv", _rows(400, 6, 0), final_newline)
    test = _write(tmp_path / "test.csv", _rows(50, 6, 1, TOKENS + ["unseen", "zz"]))
    assert read_clean_codes(train, 6) is not None
    fast, fast_test, slow, slow_test = _both(train, test, 6, min_threshold=4)
    assert fast.feat_mapper == slow.feat_mapper and fast.defaults == slow.defaults
    np.testing.assert_array_equal(fast.features, slow.features)
    np.testing.assert_array_equal(fast.labels, slow.labels)
    np.testing.assert_array_equal(fast_test.features, slow_test.features)
    assert fast.skip_report.to_dict() == slow.skip_report.to_dict()
    assert fast.features.dtype == slow.features.dtype and fast.labels.dtype == slow.labels.dtype


@pytest.mark.parametrize("problem", ["crlf", "bad_label", "short_line", "blank_line", "non_ascii"])
def test_files_with_problems_take_the_careful_reader(tmp_path, problem):
    rows = _rows(30, 4, 2)
    line_end = "\n"
    if problem == "crlf":
        line_end = "\r\n"
    elif problem == "bad_label":
        rows[3][0] = "2"
    elif problem == "short_line":
        rows[5] = rows[5][:3]
    elif problem == "blank_line":
        rows[7] = [""]
    elif problem == "non_ascii":
        rows[2][1] = "caf\u00e9"
    path = _write(tmp_path / "train.csv", rows, line_end=line_end)
    assert read_clean_codes(path, 4) is None
    data = CTRDataset(path, num_feat=4, min_threshold=1)
    if problem in ("bad_label", "short_line", "blank_line"):
        assert data.skip_report.skipped == 1
    assert len(data) == 30 - data.skip_report.skipped


def test_zero_copy_batches_leave_the_callers_array_writable():
    import mxnet as mx

    from deepfm_gluon.training.loop import _as_index
    batch = np.arange(12, dtype=np.int32).reshape(3, 4)
    arr = _as_index(batch, mx.cpu())
    batch[0, 0] = 99  # the caller may reuse its buffer
    assert batch.flags.writeable
    assert int(arr.asnumpy()[0, 0]) == 0


def test_package_prediction_path_matches_the_eager_model():
    import mxnet as mx
    from mxnet import init, npx

    from deepfm_gluon.models import build_model
    from deepfm_gluon.training.loop import predict_logits
    npx.set_np()
    field_dims = [4, 6, 3]
    net = build_model("deepfm", field_dims)
    net.initialize(init.Xavier(), ctx=mx.cpu())
    X = np.random.default_rng(0).integers(0, 4, (1000, 3)) + np.array([0, 4, 10])
    eager = net(mx.np.array(X, dtype=np.int32)).asnumpy().ravel()
    net.hybridize(static_alloc=True, static_shape=True)
    fast = predict_logits(net, X, mx.cpu(), batch_size=256)
    np.testing.assert_allclose(fast, eager, atol=1e-6)
