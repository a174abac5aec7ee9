"""`train --config FILE`: the file's values are used, typed flags win, and
an unknown key, a bad value or a wrong model is one line naming the file."""
import json

import pytest

from deepfm_gluon.cli.main import main
from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.experiments.config_file import RunConfig, read_config, write_config


def test_train_config_file_sets_values_and_typed_flags_override(small_data_dir, tmp_path):
    config = tmp_path / "fm.json"
    write_config(str(config), RunConfig("fm", {"num_factors": 6}, {
        "lr": 0.004, "batch_size": 256, "embedding_l2": 1e-4, "dense_l2": 1e-5, "epochs": 3, "early_stop": 1},
        tuning={"study": "ignored when read"}))
    out = tmp_path / "run"
    assert main(["train", "--config", str(config), "--data", small_data_dir, "--batch-size", "128",
                 "--no-progress", "--out", str(out)]) == 0
    history = json.loads((out / "history.json").read_text())
    meta = json.loads((out / "meta.json").read_text())
    assert history["model"] == "fm" and meta["model_config"]["num_factors"] == 6
    trained = history["config"]
    assert (trained["lr"], trained["batch_size"], trained["embedding_l2"], trained["dense_l2"],
            trained["epochs"], trained["early_stop"]) == (0.004, 128, 1e-4, 1e-5, 3, 1)
    assert history["chosen"] is not None  # early stopping from the file cut a validation split


@pytest.mark.parametrize("text, message", [
    ('{"model": "fm",\n "num_factors": 4,\n "lrate": 0.1}', "line 3: unknown key 'lrate' for model fm"),
    ('{"model": "fm", "mlp_dims": [8]}', "unknown key 'mlp_dims' for model fm"),
    ('{"model": "fm", "num_factors": 0}', "num_factors: expected 1.."),
    ('{"model": "fm", "batch_size": "big"}', "batch_size: expected a positive integer"),
    ('{"model": "nosuch"}', "unknown model 'nosuch'"),
    ('{"model": "fm",\n "lr": }', "line 2: not valid JSON"),
    ('[1, 2]', "expected a JSON object"),
])
def test_bad_config_files_are_refused_by_name(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DeepFMError, match="^" + str(path).replace(".", r"\.") + ".*" + message.replace("(", r"\(")):
        read_config(str(path))


def test_train_refuses_a_config_for_another_model_in_one_line(tmp_path, capsys):
    path = tmp_path / "fm.json"
    path.write_text('{"model": "fm"}')
    assert main(["train", "--config", str(path), "--model", "deepfm", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "configures model fm" in err


def test_tune_without_optuna_is_one_line_naming_the_extra(tmp_path):
    """The tune extra is optional: without Optuna, `tune` says how to get it."""
    import subprocess
    import sys
    code = ("import sys; sys.modules['optuna'] = None\n"
            "from deepfm_gluon.cli.main import main\n"
            f"sys.exit(main(['tune', '--model', 'fm', '--out', {str(tmp_path / 'o')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0
    assert "pip install 'deepfm-gluon[tune]'" in proc.stderr
