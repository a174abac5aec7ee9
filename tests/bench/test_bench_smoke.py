"""The benchmark suite runs end to end at CI size and reports what it should.

No timing assertions: the numbers depend on the machine and its load.
"""
import json

import numpy as np
import pytest

from deepfm_gluon.bench import BenchConfig
from deepfm_gluon.cli.main import build_parser, main
from deepfm_gluon.errors import DeepFMError

SUMMARY_KEYS = {"train_e2e_book", "train_e2e_ours", "train_loop_ours", "train_loop_torch",
                "predict_book", "predict_ours", "predict_torch", "encode_d2l", "encode_ours",
                "rss_book_e2e", "rss_ours_e2e", "train_vs_book", "train_vs_torch",
                "encode_vs_d2l", "predict_max_abs_diff_vs_book", "ablations"}


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    args = ["bench", "--quick", "--json", "--data-dir", str(out), "--encode-rows", "1000",
            "--d2l-encode-rows", "200", "--predict-rows", "8192", "--out", str(out / "r.json")]
    assert main(args) == 0
    with open(out / "r.json") as f:
        return json.load(f)


def test_quick_suite_reports_every_measurement(quick_report):
    summary = quick_report["summary"]
    assert SUMMARY_KEYS <= set(summary)
    for key in ("train_e2e_book", "train_e2e_ours", "train_loop_ours", "predict_book",
                "predict_ours", "encode_d2l", "encode_ours", "rss_book_e2e", "rss_ours_e2e"):
        assert summary[key] > 0, key
    assert summary["train_vs_book"] > 0 and summary["encode_vs_d2l"] > 0
    assert summary["predict_max_abs_diff_vs_book"] < 1e-5
    assert quick_report["torch"] is False and summary["train_loop_torch"] is None
    assert set(quick_report["targets"]) == {"train_vs_book", "train_vs_torch", "predict_ours",
                                            "encode_vs_d2l"}
    assert quick_report["targets"]["train_vs_torch"]["met"] is None
    assert set(quick_report["runs"]) == {"book_e2e", "ours_e2e", "ours_loop", "predict",
                                         "encode_ours", "encode_d2l"}
    assert quick_report["machine"]["cpus"] >= 1


def test_report_formats_as_tables(quick_report):
    from deepfm_gluon.bench import format_report
    text = format_report(quick_report)
    assert "train end to end" in text and "encode vs d2l" in text
    assert "predict batch 8192" in text and "max |difference|" in text


def test_quick_flags_make_a_quick_config():
    from deepfm_gluon.cli.bench_cmd import config_from_args
    args = build_parser().parse_args(["bench", "--quick", "--epochs", "2", "--threads", "1"])
    config = config_from_args(args)
    assert config.train_rows == BenchConfig.quick().train_rows
    assert config.epochs == 2 and config.threads == 1
    assert config_from_args(build_parser().parse_args(["bench"])).train_rows == 15000


@pytest.mark.parametrize("bad", [dict(test_rows=10, batch_size=64), dict(omp_wait_policy="spin"),
                                 dict(encode_rows=10, d2l_encode_rows=20), dict(epochs=0),
                                 dict(torch_python="python", torch_peer="/no/such/peer.py")])
def test_bad_settings_are_user_errors(bad):
    with pytest.raises(DeepFMError):
        BenchConfig.quick(**bad).validate()


def test_package_matches_the_book_block_exactly():
    """Same weights: the hybridized package DeepFM gives the book Block's
    probabilities (axis sums vs matrix products) within 1e-5."""
    import mxnet as mx
    from mxnet import init, npx

    from deepfm_gluon.bench.book import BookDeepFM
    from deepfm_gluon.bench.tasks import _copy_params
    from deepfm_gluon.models import build_model
    npx.set_np()
    field_dims = [3, 7, 5, 11, 2]
    ours = build_model("deepfm", field_dims)
    ours.initialize(init.Xavier(), ctx=mx.cpu())
    book = BookDeepFM(field_dims, num_factors=10, mlp_dims=[30, 20, 10])
    book.initialize(init.Xavier(), ctx=mx.cpu())
    _copy_params(ours, book)
    rng = np.random.default_rng(0)
    offsets = np.concatenate([[0], np.cumsum(field_dims)[:-1]])
    X = (rng.integers(0, field_dims, (513, len(field_dims))) + offsets).astype(np.int32)
    x = mx.np.array(X, dtype=np.int32)
    expected = book(x).asnumpy()
    eager = ours(x).asnumpy()
    ours.hybridize(static_alloc=True, static_shape=True)
    hybrid = ours(x).asnumpy()
    assert np.abs(eager - expected).max() < 1e-5
    assert np.abs(hybrid - expected).max() < 1e-5
