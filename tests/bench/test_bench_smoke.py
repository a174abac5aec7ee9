"""The benchmark suite runs end to end at CI size and reports what it should.

No timing assertions: the numbers depend on the machine and its load.
"""
import json

import pytest

from deepfm_gluon.bench import BenchConfig
from deepfm_gluon.cli.main import build_parser, main
from deepfm_gluon.errors import DeepFMError

SUMMARY_KEYS = {"train_e2e_book", "train_e2e_ours", "train_loop_ours", "train_loop_torch",
                "predict_book", "predict_ours", "predict_torch", "encode_d2l", "encode_ours",
                "rss_book_e2e", "rss_ours_e2e", "train_vs_book", "train_vs_torch",
                "encode_vs_d2l", "predict_max_abs_diff_vs_book", "ablations",
                "train_e2e_book_workers0", "book_dataloader_workers", "process_seconds_book",
                "process_seconds_book_workers0", "process_seconds_ours", "process_seconds_torch",
                "train_vs_book_own_workers", "process_vs_book", "process_vs_torch",
                "process_seconds_ours_loop", "process_loop_vs_torch"}


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
    # The book runs with its own DataLoader worker count, and with none.
    from d2l import mxnet as d2l
    assert summary["book_dataloader_workers"] == d2l.get_dataloader_workers()
    assert [r["num_workers"] for r in quick_report["runs"]["book_e2e_workers0"]] == [0]
    assert summary["train_e2e_book_workers0"] > 0
    assert summary["train_vs_book"] == pytest.approx(
        summary["train_e2e_ours"] / max(summary["train_e2e_book"], summary["train_e2e_book_workers0"]))
    # Whole-process wall time covers the in-process time, start-up and imports on top.
    for label, seconds in (("book_e2e", "process_seconds_book"), ("book_e2e_workers0",
                                                                 "process_seconds_book_workers0"),
                           ("ours_e2e", "process_seconds_ours"),
                           ("ours_loop", "process_seconds_ours_loop")):
        run = quick_report["runs"][label][0]
        assert run["process_seconds"] > run["seconds"] > 0, label
        assert summary[seconds] == pytest.approx(run["process_seconds"])
    assert summary["process_vs_book"] > 0 and summary["process_seconds_torch"] is None
    assert quick_report["torch"] is False and summary["train_loop_torch"] is None
    assert set(quick_report["targets"]) == {"train_vs_book", "train_vs_torch", "predict_ours",
                                            "encode_vs_d2l"}
    assert quick_report["targets"]["train_vs_torch"]["met"] is None
    assert set(quick_report["runs"]) == {"book_e2e", "book_e2e_workers0", "ours_e2e", "ours_loop", "predict",
                                         "encode_ours", "encode_d2l"}
    assert quick_report["machine"]["cpus"] >= 1


def test_report_formats_as_tables(quick_report):
    from deepfm_gluon.bench import format_report
    text = format_report(quick_report)
    assert "train end to end" in text and "encode vs d2l" in text
    assert "predict batch 8192" in text and "max |difference|" in text
    assert "whole process, s" in text and "num_workers=0" in text
    seconds = [line.split()[-5:] for line in text.splitlines() if line.startswith("whole process, s")]
    assert len(seconds) == 3 and all("." in row[1] for row in seconds)  # ours: seconds, 2 decimals


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
