"""Presets, flags over presets, and compare's two protocols in --json."""
import argparse
import json

import pytest

from deepfm_gluon.cli.common import PRESET_NOTE, resolve_preset
from deepfm_gluon.cli.main import main
from deepfm_gluon.cli.parser import build_parser
from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.training.config import PRESETS, RunSpec, TrainConfig
from deepfm_gluon.training.early_stopping import MONITORS


def parse(*argv):
    return build_parser().parse_args(["train", *argv])


def test_criteo_defaults_to_bars_with_one_note_and_flags_override():
    notes = []
    preset = resolve_preset(parse("--data", "criteo:x", "--lr", "0.005", "--mlp-dims", "8,4"), notes.append)
    assert notes == [PRESET_NOTE.format(source="criteo", preset="bars")]
    assert (preset.name, preset.lr, preset.mlp_dims, preset.batch_size, preset.early_stop,
            preset.embedding_l2) == ("bars", 0.005, (8, 4), 4096, 2, 1e-5)
    notes.clear()
    book = resolve_preset(parse("--data", "criteo:x", "--preset", "book"), notes.append)
    assert notes == [] and book == PRESETS["book"]
    assert resolve_preset(parse(), notes.append) == PRESETS["book"] and notes == []


def test_monitors_agree_and_impossible_values_are_one_sentence():
    from deepfm_gluon.training.config import MONITORS as CONFIG_MONITORS
    assert MONITORS is CONFIG_MONITORS  # written once (training/config.py)
    with pytest.raises(DeepFMError, match="model fm has no hyperparameter 'drop_rate'"):
        RunSpec(model="fm", model_overrides={"drop_rate": 0.2}).validate()
    with pytest.raises(DeepFMError, match="book-compat"):
        RunSpec(config=TrainConfig(embedding_l2=1e-5, book_compat=True)).validate()
    with pytest.raises(DeepFMError, match="--preset book"):
        resolve_preset(argparse.Namespace(**{**vars(parse()), "dropout": 1.5}), print)


def test_compare_json_holds_both_protocols(small_data_dir, tmp_path, capsys):
    assert main(["compare", "--data", small_data_dir, "--epochs", "3", "--no-progress", "--json",
                 "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    report = json.loads(text[text.index("{"):])
    assert set(report["protocols"]) == {"book", "early-stop"}
    for row in report["rows"]:
        assert 1 <= row["early-stop: epoch"] <= row["early-stop: epochs run"] <= 3 or row["early-stop: epoch"] == 0
        assert row["book: epochs"] == 3
    saved = json.loads((tmp_path / "compare.json").read_text())
    chosen = saved["histories"]["early-stop"]["deepfm"]["chosen"]
    assert chosen["test_auc"] == report["rows"][1]["early-stop: test AUC"]
    assert "val_auc" in saved["histories"]["early-stop"]["deepfm"]["epochs"][0]


def test_compare_any_models_over_seeds_pairs_each_with_the_first(small_data_dir, tmp_path, capsys):
    """compare --models lr,fm --seeds 2: rows are the means over the seeds' own
    runs, and the paired test is the one written here from those runs."""
    from scipy import stats
    assert main(["compare", "--models", "lr,fm", "--seeds", "2", "--data", small_data_dir, "--epochs", "1",
                 "--no-progress", "--json", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    report = json.loads(text[text.index("{"):])
    assert report["models"] == ["lr", "fm"] and report["seeds"] == [0, 1]
    assert [row["model"] for row in report["rows"]] == ["lr", "fm"]
    (pair,) = report["paired"]["book"]
    assert (pair["model"], pair["baseline"], pair["seeds"]) == ("fm", "lr", 2)
    assert len(report["paired"]["early-stop"]) == 1
    # the first seed's runs are kept: their AUCs and the rows' means give back the paired numbers
    saved = json.loads((tmp_path / "compare.json").read_text())
    first = {k: saved["histories"]["book"][k]["epochs"][-1]["test_auc"] for k in ("lr", "fm")}
    second = {k: 2 * report["rows"][i]["book: test AUC"] - first[k] for i, k in enumerate(("lr", "fm"))}
    diffs = [first["fm"] - first["lr"], second["fm"] - second["lr"]]
    assert pair["auc_diff_mean"] == pytest.approx(sum(diffs) / 2, abs=1e-9)
    expected_p = stats.ttest_rel([first["fm"], second["fm"]], [first["lr"], second["lr"]]).pvalue
    assert pair["paired_t_p"] == pytest.approx(expected_p, rel=1e-6, nan_ok=True)


def test_models_lists_every_registered_model(capsys):
    from deepfm_gluon.models import all_specs
    assert main(["models", "--json"]) == 0
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert set(listed) == {spec.name for spec in all_specs()} >= {"fm", "deepfm"}
    deepfm = listed["deepfm"]
    assert deepfm["lr"] == 0.01 and deepfm["tables"] == ["embedding", "fc"] and deepfm["onnx"] is True
    assert {h["name"]: h["default"] for h in deepfm["hyperparameters"]} == {
        "num_factors": 10, "mlp_dims": [30, 20, 10], "drop_rate": 0.1}
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert all(f"{name}: " in text for name in listed) and "num_factors = 20" in text
