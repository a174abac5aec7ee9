"""`deepfm-gluon train/compare --data criteo:PATH` end to end, on a tiny file."""
import json
import os

import pytest

from deepfm_gluon.cli.main import main
from deepfm_gluon.data import load_encoder
from deepfm_gluon.data.criteo import CriteoSyntheticSpec, write_criteo_synthetic


@pytest.fixture(scope="module")
def criteo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "day_0"
    write_criteo_synthetic(str(path), CriteoSyntheticSpec(num_rows=1200, seed=1, max_cardinality=50,
                                                          bad_every=250))
    return str(path)


def test_train_sparse_on_criteo(criteo_file, tmp_path, capsys):
    out = tmp_path / "model"
    code = main(["train", "--model", "fm", "--data", f"criteo:{criteo_file}", "--data-dir",
                 str(tmp_path / "d"), "--epochs", "1", "--batch-size", "128", "--sparse",
                 "--no-progress", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "956 train / 120 validation / 120 test" in text  # 4 malformed lines are not rows
    assert text.count("train /") == 1 and "1076 train" not in text  # the final split, printed once (issue 21, 14)
    assert "warning:" in text and "skipped 4 of 1200" in text
    meta = json.loads((out / "meta.json").read_text())
    assert meta["num_feat"] == 39 and meta["train_config"]["sparse"] is True
    encoder = load_encoder(out / "encoder.json")  # the Criteo vocabulary, integer transforms included
    assert encoder.kind == "vocabulary" and encoder.transforms[:13] == ["criteo_integer"] * 13
    assert list(encoder.field_dims) == meta["model_config"]["field_dims"]


def test_compare_with_hashing(criteo_file, tmp_path, capsys):
    code = main(["compare", "--data", f"criteo:{criteo_file}", "--data-dir", str(tmp_path / "d"),
                 "--epochs", "1", "--batch-size", "256", "--hash-buckets", "97", "--no-progress",
                 "--out", str(tmp_path / "cmp")])
    assert code == 0
    assert "3783 features in 39 fields" in capsys.readouterr().out
    assert os.path.exists(tmp_path / "cmp" / "compare.json")
    saved = [os.path.join(root, "encoder.json") for root, _, files in os.walk(tmp_path / "cmp")
             if "encoder.json" in files]
    assert len(saved) == 4  # fm and deepfm under both protocols
    for path in saved:  # hashing: no mapping.json look-alike beside it
        assert load_encoder(path).num_buckets == 97
        assert not os.path.exists(os.path.join(os.path.dirname(path), "mapping.json"))


def test_bad_criteo_specs_are_one_line_errors(tmp_path, capsys):
    assert main(["train", "--data", "criteo:", "--epochs", "1", "--no-progress",
                 "--out", str(tmp_path / "m")]) == 2
    assert main(["train", "--data", f"criteo:{tmp_path}/nope", "--data-dir", str(tmp_path),
                 "--epochs", "1", "--no-progress", "--out", str(tmp_path / "m")]) == 2
    assert main(["train", "--data", "synthetic", "--hash-buckets", "10", "--epochs", "1",
                 "--no-progress", "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "criteo:PATH" in err and "no such file" in err
