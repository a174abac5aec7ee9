"""`export` refuses a target it should not write, in one line, before it
writes anything (issue 21, case 12): an existing export without --force, a
missing parent folder, an empty path, a device or other non-regular file, a
file inside the model directory. With --force an export is replaced."""
import os

import pytest

from deepfm_gluon.cli import main


def listing(folder):
    return sorted(os.listdir(folder))


def export(model_dir, fmt, out, *flags):
    return main(["export", "--model-dir", model_dir, "--format", fmt, "--out", out, *flags])


def one_error_line(capsys):
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


@pytest.mark.parametrize("fmt,existing", [("onnx", "m.onnx"), ("onnx", "m.encoder.json"),
                                          ("mxnet", "m-symbol.json"), ("mxnet", "m-0000.params")])
def test_an_existing_export_is_kept_without_force(fmt, existing, trained_models, tmp_path, capsys):
    _, model_dir = trained_models["fm"]
    (tmp_path / existing).write_text("keep me")
    out = str(tmp_path / ("m.onnx" if fmt == "onnx" else "m"))
    assert export(model_dir, fmt, out) == 2
    assert one_error_line(capsys).endswith(f"--out {tmp_path / existing}: exists; pass --force to replace it")
    assert listing(tmp_path) == [existing] and (tmp_path / existing).read_text() == "keep me"
    assert export(model_dir, fmt, out, "--force") == 0
    assert (tmp_path / existing).read_bytes() != b"keep me"
    assert len(listing(tmp_path)) == (2 if fmt == "onnx" else 3)


@pytest.mark.parametrize("out,expected", [
    ("", "--out '': an empty path; name a file"),
    ("/dev/null", "--out /dev/null: not a regular file (a device, FIFO or socket); name a file"),
    ("{tmp}/no/such/m", "--out {tmp}/no/such/{first}: the folder {tmp}/no/such does not exist; "
                        "create it first"),
    ("{model}/m", "--out {model}/{first}: is inside the model directory {model}; name a file elsewhere"),
])
def test_targets_that_are_no_new_file_are_refused_before_anything_is_written(out, expected, trained_models,
                                                                            tmp_path, capsys, monkeypatch):
    _, model_dir = trained_models["fm"]
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # an empty --out used to write hidden .onnx files here
    model_files = listing(model_dir)
    beside_dev_null = dev_null_neighbours()  # an older export may have left them; none may appear now
    out = out.format(tmp=tmp_path, model=model_dir, first="")
    for fmt, first in (("onnx", "m.onnx"), ("mxnet", "m-symbol.json")):  # the first file each writes
        assert export(model_dir, fmt, out) == 2
        assert one_error_line(capsys).endswith(expected.format(tmp=tmp_path, model=model_dir, first=first))
    assert listing(work) == [] and not os.path.exists(tmp_path / "no")
    assert listing(model_dir) == model_files
    assert dev_null_neighbours() == beside_dev_null


def dev_null_neighbours():
    """The files an export to /dev/null once wrote, with their modification times."""
    names = ("/dev/null.onnx", "/dev/null.encoder.json")
    return {name: os.stat(name).st_mtime_ns for name in names if os.path.exists(name)}


def test_a_fifo_as_out_is_refused(trained_models, tmp_path, capsys):
    _, model_dir = trained_models["fm"]
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert export(model_dir, "mxnet", str(fifo)) == 2
    assert "not a regular file" in one_error_line(capsys)
    assert listing(tmp_path) == ["pipe"]
