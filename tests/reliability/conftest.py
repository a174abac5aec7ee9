"""A trained FM model with checkpoints, made once for the reliability tests."""
import os

import pytest

from deepfm_gluon.cli import main


@pytest.fixture(scope="session")
def fm_run(small_data_dir, tmp_path_factory):
    """An FM run of 1 epoch with checkpoints: its --out folder."""
    out = str(tmp_path_factory.mktemp("rel") / "fm")
    assert main(["train", "--model", "fm", "--data", small_data_dir, "--epochs", "1",
                 "--batch-size", "512", "--out", out, "--no-progress"]) == 0
    return out


def run_cli(argv, capsys):
    """(exit code, stdout, stderr) of the CLI run in this process."""
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, *words):
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]


def read_lines(path):
    with open(path) as f:
        return f.read().splitlines()


def csv_of(small_data_dir):
    return os.path.join(small_data_dir, "test.csv")
