"""A preset's batch that leaves too few steps per epoch is capped (one line
says so), so the Criteo default learns on a small file; a typed batch is kept."""
import json

import pytest

from deepfm_gluon.cli.main import main
from deepfm_gluon.experiments.runner import fit_batch_to_data
from deepfm_gluon.training.config import PRESETS, RunSpec, TrainConfig

from .shared_data import HEAD_6000, shared_criteo


def test_batch_is_capped_to_a_power_of_two_leaving_min_steps():
    lines = []
    spec = RunSpec(config=TrainConfig(batch_size=4096, min_steps_per_epoch=20))
    assert fit_batch_to_data(spec, 4800, lines.append).config.batch_size == 128  # 4800 / 20 = 240 -> 128
    assert len(lines) == 1 and "batch 4096 leaves 1 step(s) per epoch on 4,800" in lines[0]
    assert fit_batch_to_data(spec, 10 ** 6, lines.append).config.batch_size == 4096
    typed = RunSpec(config=TrainConfig(batch_size=4096))
    assert fit_batch_to_data(typed, 4800, lines.append).config.batch_size == 4096 and len(lines) == 1
    assert PRESETS["bars"].min_steps == 20 and PRESETS["book"].min_steps == 0  # the chapter's batch is kept


def test_criteo_default_learns_on_the_6000_line_sample(tmp_path, capsys):
    path = shared_criteo(HEAD_6000)
    out = tmp_path / "fm"
    assert main(["train", "--model", "fm", "--data", f"criteo:{path}", "--data-dir", str(tmp_path / "cache"),
                 "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("using batch 128") == 1
    chosen = json.loads((out / "history.json").read_text())["chosen"]
    assert chosen["epoch"] >= 1, "the default ended as the base-rate predictor"
    assert chosen["val_auc"] > 0.7 and chosen["test_auc"] > 0.7
