"""Issue 15, cases 1, 2, 6 and 12 (streams): predict stays aligned with its
input, reads it once, and never writes over what it must not."""
import math
import os
import shutil
import subprocess
import sys
import threading

import pytest

from .conftest import assert_one_line_error, read_lines, run_cli, csv_of


@pytest.fixture
def clean_probs(fm_run, small_data_dir, tmp_path, capsys):
    out = tmp_path / "clean.txt"
    code, _, err = run_cli(["predict", "--model-dir", fm_run, "--input", csv_of(small_data_dir),
                            "--output", str(out)], capsys)
    assert code == 0, err
    return [float(x) for x in read_lines(out)]


def test_malformed_line_keeps_rows_aligned(fm_run, small_data_dir, tmp_path, clean_probs, capsys):
    lines = read_lines(csv_of(small_data_dir))
    bad = lines[:3] + ["oops\tonly two"] + lines[3:]
    src = tmp_path / "in.csv"
    src.write_text("\n".join(bad) + "\n")
    out = tmp_path / "p.txt"
    code, stdout, err = run_cli(["predict", "--model-dir", fm_run, "--input", str(src),
                                 "--output", str(out)], capsys)
    assert code == 0, err
    rows = read_lines(out)
    assert len(rows) == len(bad)
    assert math.isnan(float(rows[3]))
    got = [float(x) for i, x in enumerate(rows) if i != 3]
    assert got == pytest.approx(clean_probs, abs=1e-7)
    assert "line 4" in stdout + err


def test_strict_names_file_and_line(fm_run, small_data_dir, tmp_path, capsys):
    lines = read_lines(csv_of(small_data_dir))
    src = tmp_path / "in.csv"
    src.write_text("\n".join(lines[:5] + ["x"] + lines[5:]) + "\n")
    code, _, err = run_cli(["predict", "--model-dir", fm_run, "--input", str(src), "--output",
                            str(tmp_path / "p.txt"), "--strict"], capsys)
    assert_one_line_error(code, err, f"{src}:6")


def test_bad_first_line_does_not_decide_the_label_column(fm_run, small_data_dir, tmp_path,
                                                         clean_probs, capsys):
    lines = read_lines(csv_of(small_data_dir))
    no_label = "\t".join(lines[0].split("\t")[1:])  # 34 fields: looks like an unlabelled line
    src = tmp_path / "in.csv"
    src.write_text("\n".join([no_label] + lines) + "\n")
    out = tmp_path / "p.txt"
    code, _, err = run_cli(["predict", "--model-dir", fm_run, "--input", str(src),
                            "--output", str(out)], capsys)
    assert code == 0, err
    rows = read_lines(out)
    assert len(rows) == len(lines) + 1 and math.isnan(float(rows[0]))
    assert [float(x) for x in rows[1:]] == pytest.approx(clean_probs, abs=1e-7)
    code, _, err = run_cli(["evaluate", "--model-dir", fm_run, "--data", str(src)], capsys)
    assert code == 0, err


def test_ambiguous_label_column_is_an_error(fm_run, small_data_dir, tmp_path, capsys):
    lines = read_lines(csv_of(small_data_dir))[:10]
    mixed = lines[:5] + ["\t".join(line.split("\t")[1:]) for line in lines[5:]]
    src = tmp_path / "in.csv"
    src.write_text("\n".join(mixed) + "\n")
    code, _, err = run_cli(["predict", "--model-dir", fm_run, "--input", str(src),
                            "--output", str(tmp_path / "p.txt")], capsys)
    assert_one_line_error(code, err, str(src), "label column")


@pytest.mark.parametrize("source", ["-", "/dev/stdin"])
def test_stdin_to_stdout_pipe(fm_run, small_data_dir, clean_probs, source):
    data = open(csv_of(small_data_dir), "rb").read()
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", "predict", "--model-dir", fm_run,
                           "--input", source, "--output", "-"], input=data, capture_output=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert [float(x) for x in proc.stdout.decode().split()] == pytest.approx(clean_probs, abs=1e-7)


def test_fifo_input_is_read_once(fm_run, small_data_dir, tmp_path, clean_probs, capsys):
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    data = open(csv_of(small_data_dir), "rb").read()

    def feed():
        with open(fifo, "wb") as f:
            f.write(data)
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    out = tmp_path / "p.txt"
    code, _, err = run_cli(["predict", "--model-dir", fm_run, "--input", fifo, "--output", str(out)], capsys)
    writer.join(5)
    assert code == 0, err
    assert [float(x) for x in read_lines(out)] == pytest.approx(clean_probs, abs=1e-7)


def test_output_never_names_the_input_or_the_model(fm_run, small_data_dir, tmp_path, capsys):
    src = tmp_path / "in.csv"
    shutil.copy(csv_of(small_data_dir), src)
    before = src.read_bytes()
    params_before = open(os.path.join(fm_run, "model.params"), "rb").read()
    link = tmp_path / "link.txt"
    os.symlink(src, link)
    for target in (str(src), str(link), os.path.join(fm_run, "model.params"), os.path.join(fm_run, "new.txt")):
        code, _, err = run_cli(["predict", "--model-dir", fm_run, "--input", str(src),
                                "--output", target, "--force"], capsys)
        assert_one_line_error(code, err, "--output")
    assert src.read_bytes() == before
    assert open(os.path.join(fm_run, "model.params"), "rb").read() == params_before
    code, _, err = run_cli(["predict", "--model-dir", fm_run, "--input", str(src),
                            "--output", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "is a directory")


def test_existing_output_needs_force(fm_run, small_data_dir, tmp_path, capsys):
    out = tmp_path / "p.txt"
    out.write_text("keep me\n")
    argv = ["predict", "--model-dir", fm_run, "--input", csv_of(small_data_dir), "--output", str(out)]
    code, _, err = run_cli(argv, capsys)
    assert_one_line_error(code, err, str(out), "--force")
    assert out.read_text() == "keep me\n"
    code, _, err = run_cli(argv + ["--force"], capsys)
    assert code == 0, err
    assert len(read_lines(out)) == 600
    assert oct(os.stat(out).st_mode & 0o777) == oct(0o666 & ~current_umask())


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_dev_stdout_is_written_not_replaced(fm_run, small_data_dir):
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", "predict", "--model-dir", fm_run,
                           "--input", csv_of(small_data_dir), "--output", "/dev/stdout"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.split()) == 600
    assert not os.path.isfile("/dev/stdout") or os.path.islink("/dev/stdout")
