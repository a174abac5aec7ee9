"""The two real Criteo samples (shared data, never copied here): both layouts read."""
import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import criteo_oracle as oracle  # noqa: E402

from deepfm_gluon.data.criteo import detect_format, open_cache  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "criteo"
PADDLE = SHARED / "paddlerec_criteo_raw_sample_train.txt"  # TAB, no header, no final newline
DEEPCTR = SHARED / "deepctr_criteo_sample.txt"  # comma, header, integers as "260.0"


def need(path):
    if not path.exists():
        pytest.skip(f"{path} not present (shared data)")
    return str(path)


@pytest.mark.parametrize("name,sep,header,rows,positives", [
    ("paddle", "\t", False, 100, 29), ("deepctr", ",", True, 200, 49)])
def test_sample_reads_like_the_oracle(name, sep, header, rows, positives, tmp_path):
    path = need(PADDLE if name == "paddle" else DEEPCTR)
    fmt = detect_format(path)
    assert (fmt.sep, fmt.header) == (sep, header)
    folder, meta = open_cache(path, str(tmp_path))
    features = np.load(os.path.join(folder, "features.npy"))
    labels = np.load(os.path.join(folder, "labels.npy"))
    want, want_labels, num_train, dims, bad = oracle.encode(path, sep, header)
    assert not bad and meta["skip_report"]["skipped"] == 0
    assert meta["num_rows"] == rows and int(labels.sum()) == positives
    assert meta["num_train"] == num_train == rows - rows // 10
    np.testing.assert_array_equal(features, np.array(want))
    assert meta["field_dims"] == dims


def test_float_and_plain_integers_share_tokens():
    rows, _ = oracle.good_rows(need(DEEPCTR), ",", True)
    paddle, _ = oracle.good_rows(need(PADDLE))
    deepctr_tokens = {t for _, _, tokens in rows for t in tokens[:13]}
    paddle_tokens = {t for _, _, tokens in paddle for t in tokens[:13]}
    assert "L30" in deepctr_tokens | paddle_tokens or deepctr_tokens & paddle_tokens
    assert not any(t.endswith(".0") for t in deepctr_tokens)
