"""Issue 15, cases 3, 4, 5, 8-12: training folders, resume, model and
checkpoint files, flags; every failure is one line and exit 2."""
import errno
import fcntl
import json
import os
import shutil

import numpy as np
import pytest

from deepfm_gluon.cli import main

from .conftest import assert_one_line_error, run_cli


def train_argv(data, out, *extra):
    return ["train", "--model", "fm", "--data", data, "--epochs", "1", "--batch-size", "512",
            "--out", str(out), "--no-progress", *extra]


def copy_run(fm_run, tmp_path):
    dst = tmp_path / "run"
    shutil.copytree(fm_run, dst)
    return str(dst)


def params_of(folder):
    import mxnet as mx
    return {k: v.asnumpy() for k, v in mx.nd.load(os.path.join(folder, "model.params")).items()}


def test_out_holding_another_run_is_refused(fm_run, small_data_dir, tmp_path, capsys):
    out = copy_run(fm_run, tmp_path)
    code, _, err = run_cli(train_argv(small_data_dir, out), capsys)
    assert_one_line_error(code, err, out, "--overwrite")
    code, _, err = run_cli(train_argv(small_data_dir, out, "--overwrite"), capsys)
    assert code == 0, err
    assert sorted(os.listdir(os.path.join(out, "checkpoints"))) == ["epoch-0001", "latest.json"]


def test_two_runs_on_one_folder_are_kept_apart(small_data_dir, tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, _, err = run_cli(train_argv(small_data_dir, out), capsys)
    assert_one_line_error(code, err, str(out), "another")


def test_too_few_lines_for_one_batch(small_data_dir, tmp_path, capsys):
    code, _, err = run_cli(train_argv(small_data_dir, tmp_path / "o") + ["--batch-size", "1000000000"], capsys)
    assert_one_line_error(code, err, "3000", "1000000000")
    assert not os.path.exists(tmp_path / "o" / "model.params")


def test_resume_extends_a_finished_run_bit_exactly(fm_run, small_data_dir, tmp_path, capsys):
    extended = copy_run(fm_run, tmp_path)
    code, _, err = run_cli(["train", "--resume", extended, "--epochs", "2", "--no-progress"], capsys)
    assert code == 0, err
    straight = tmp_path / "straight"
    code, _, err = run_cli(train_argv(small_data_dir, straight)[:-3] + ["--epochs", "2", "--no-progress"]
                           if False else ["train", "--model", "fm", "--data", small_data_dir, "--epochs", "2",
                                          "--batch-size", "512", "--out", str(straight), "--no-progress"], capsys)
    assert code == 0, err
    a, b = params_of(extended), params_of(straight)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert len(json.load(open(os.path.join(extended, "history.json")))["epochs"]) == 2


@pytest.mark.parametrize("flag", [["--lr", "0.5"], ["--model", "deepfm"], ["--batch-size", "64"],
                                  ["--seed", "3"], ["--data", "synthetic"], ["--out", "elsewhere"]])
def test_resume_refuses_flags_that_change_the_run(fm_run, tmp_path, flag, capsys):
    run = copy_run(fm_run, tmp_path)
    code, _, err = run_cli(["train", "--resume", run, *flag], capsys)
    assert_one_line_error(code, err, flag[0])


def test_resume_falls_back_when_latest_json_is_corrupt(fm_run, tmp_path, capsys):
    run = copy_run(fm_run, tmp_path)
    ckpt = os.path.join(run, "checkpoints")
    with open(os.path.join(ckpt, "latest.json"), "w") as f:
        f.write("[" * 100000)
    open(os.path.join(ckpt, ".latest.json.tmp1"), "w").close()
    code, out, err = run_cli(["train", "--resume", run, "--epochs", "2", "--no-progress"], capsys)
    assert code == 0, err
    assert "warning" in out + err
    assert (out + err).count("warning") == 1  # once, where the checkpoint is chosen
    assert not any(n.startswith(".latest.json.") for n in os.listdir(ckpt))


def damage_checkpoint(epoch, damage):
    """Damage one part of the checkpoint folder ``epoch`` as ``damage`` names."""
    states, params = os.path.join(epoch, "optimizer.states"), os.path.join(epoch, "model.params")
    if damage == "truncate_states":
        data = open(states, "rb").read()
        open(states, "wb").write(data[: len(data) // 2])
    elif damage == "drop_states":
        os.remove(states)
    elif damage == "state_keys":
        path = os.path.join(epoch, "state.json")
        state = json.load(open(path))
        del state["optimizer"], state["batches"]
        json.dump(state, open(path, "w"))
    elif damage == "params":
        open(params, "wb").write(b"garbage" * 10)
    elif damage == "params_missing":
        os.remove(params)
    else:  # the parameters, which are read a slice at a time into the model
        data = bytearray(open(params, "rb").read())
        if damage == "params_cut":
            data = data[: len(data) - 100]
        else:  # params_negative_shape: the first array's first dimension (after list header, magic, stype, ndim)
            data[36:44] = (-5).to_bytes(8, "little", signed=True)
        open(params, "wb").write(data)


@pytest.mark.parametrize("damage", ["truncate_states", "drop_states", "state_keys", "params"])
def test_corrupt_checkpoint_is_one_line(fm_run, tmp_path, damage, capsys):
    run = copy_run(fm_run, tmp_path)
    damage_checkpoint(os.path.join(run, "checkpoints", "epoch-0001"), damage)
    code, _, err = run_cli(["train", "--resume", run, "--epochs", "2", "--no-progress"], capsys)
    assert_one_line_error(code, err, "epoch-0001")


@pytest.mark.parametrize("damage", ["truncate_states", "state_keys", "params_missing", "params_cut",
                                    "params_negative_shape"])
def test_a_damaged_latest_checkpoint_gives_way_to_the_older_one(fm_run, small_data_dir, tmp_path, damage, capsys):
    """Resume falls back, with a warning, to the newest checkpoint that reads,
    and ends bit-identical to an undamaged resume from that epoch."""
    run = copy_run(fm_run, tmp_path)
    assert run_cli(["train", "--resume", run, "--epochs", "2", "--no-progress"], capsys)[0] == 0
    reference = str(tmp_path / "reference")
    shutil.copytree(run, reference)
    damage_checkpoint(os.path.join(run, "checkpoints", "epoch-0002"), damage)
    code, _, err = run_cli(["train", "--resume", run, "--epochs", "3", "--no-progress"], capsys)
    assert code == 0 and "warning" in err and "epoch-0001" in err, err
    # the same 3 epochs from the intact epoch-0001, without the damaged one in the way
    shutil.rmtree(os.path.join(reference, "checkpoints", "epoch-0002"))
    with open(os.path.join(reference, "checkpoints", "latest.json"), "w") as f:
        json.dump({"epoch": 1, "path": "epoch-0001"}, f)
    assert run_cli(["train", "--resume", reference, "--epochs", "3", "--no-progress"], capsys)[0] == 0
    ours, theirs = params_of(run), params_of(reference)
    assert ours.keys() == theirs.keys()
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name])


def set_meta(run, **changes):
    path = os.path.join(run, "meta.json")
    meta = json.load(open(path))
    for key, value in changes.items():
        if key in ("num_factors", "drop_rate", "field_dims"):
            meta["model_config"][key] = value
        else:
            meta[key] = value
    json.dump(meta, open(path, "w"))


@pytest.mark.parametrize("changes, word", [
    ({"num_factors": 0}, "num_factors"), ({"num_factors": 100000000}, "num_factors"),
    ({"drop_rate": 5}, "drop_rate"), ({"num_feat": "34"}, "num_feat"),
    ({"num_feat": 100000000}, "num_feat"), ({"field_dims": [10 ** 12] * 34}, "field_dims"),
    ({"extra": json.loads("[" * 500 + "]" * 500)}, "deep"),
])
def test_meta_json_is_validated_before_allocating(fm_run, small_data_dir, tmp_path, changes, word, capsys):
    run = copy_run(fm_run, tmp_path)
    set_meta(run, **changes)
    code, _, err = run_cli(["predict", "--model-dir", run, "--input", os.path.join(small_data_dir, "test.csv"),
                            "--output", str(tmp_path / "p.txt")], capsys)
    assert_one_line_error(code, err, "meta.json", word)


def test_deeply_nested_meta_json(fm_run, small_data_dir, tmp_path, capsys):
    run = copy_run(fm_run, tmp_path)
    open(os.path.join(run, "meta.json"), "w").write("[" * 200000 + "]" * 200000)
    code, _, err = run_cli(["evaluate", "--model-dir", run, "--data", os.path.join(small_data_dir, "test.csv")], capsys)
    assert_one_line_error(code, err, "meta.json")


@pytest.mark.parametrize("index", [10 ** 6, -1000, "other_block"])
def test_mapping_indices_out_of_range(fm_run, small_data_dir, tmp_path, index, capsys):
    run = copy_run(fm_run, tmp_path)
    os.remove(os.path.join(run, "encoder.json"))  # the older layout: mapping.json alone
    path = os.path.join(run, "mapping.json")
    mapping = json.load(open(path))
    first = mapping["feat_mapper"]["1"]
    key = next(iter(first))
    first[key] = (len(first) + 1 if index == "other_block" else index)
    json.dump(mapping, open(path, "w"))
    code, _, err = run_cli(["predict", "--model-dir", run, "--input", os.path.join(small_data_dir, "test.csv"),
                            "--output", str(tmp_path / "p.txt")], capsys)
    assert_one_line_error(code, err, "mapping.json")


def test_corrupt_model_params_is_one_line(fm_run, small_data_dir, tmp_path, capsys):
    run = copy_run(fm_run, tmp_path)
    open(os.path.join(run, "model.params"), "wb").write(b"\x12\x01" + b"x" * 100)
    code, _, err = run_cli(["evaluate", "--model-dir", run, "--data", os.path.join(small_data_dir, "test.csv")], capsys)
    assert_one_line_error(code, err, "model.params")


def test_full_disk_while_saving_is_one_line(small_data_dir, tmp_path, monkeypatch, capsys):
    import deepfm_gluon.serving.model_dir as model_dir

    def full(path, write_fn):
        raise OSError(errno.ENOSPC, "No space left on device", path)
    monkeypatch.setattr(model_dir, "atomic_write", full)
    code, _, err = run_cli(train_argv(small_data_dir, tmp_path / "o", "--no-checkpoints"), capsys)
    assert_one_line_error(code, err, "model.params", "No space left")


def test_permission_denied_is_one_line(small_data_dir, tmp_path, monkeypatch, capsys):
    import builtins
    real_open = builtins.open
    target = os.path.join(small_data_dir, "train.csv")

    def guarded(path, *a, **k):
        if os.fspath(path) == target:
            raise PermissionError(errno.EACCES, "Permission denied", target)
        return real_open(path, *a, **k)
    monkeypatch.setattr(builtins, "open", guarded)
    code, _, err = run_cli(train_argv(small_data_dir, tmp_path / "o"), capsys)
    assert_one_line_error(code, err, "train.csv", "Permission denied")


def test_model_files_have_normal_permissions(fm_run):
    mask = os.umask(0)
    os.umask(mask)
    for name in ("model.params", "meta.json", "history.json"):
        assert os.stat(os.path.join(fm_run, name)).st_mode & 0o777 == 0o666 & ~mask, name


@pytest.mark.parametrize("argv, word", [
    (["--devices", "cpu:0"], "--devices"), (["--devices", "cpu:100000"], "--devices"),
    (["--seed", "-5"], "--seed"), (["--model", "deepfm", "--mlp-dims", "0"], "--mlp-dims"),
    (["--num-factors", "100000000"], "--num-factors"), (["--out", "/dev/null"], "--out"),
])
def test_bad_training_flags(small_data_dir, argv, word, capsys):
    args = ["train", "--model", "fm", "--data", small_data_dir, "--epochs", "1", "--no-progress", *argv]
    if "--out" not in argv:
        args += ["--out", "/nonexistent-never-created/x"]
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse's usage error
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2 and word in err and "Traceback" not in err, err
    assert not os.path.exists("/nonexistent-never-created")


def test_launch_port_out_of_range(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["launch", "--workers", "1", "--port", "70000", "--dry-run", "--", "train"])
    assert exit_.value.code == 2 and "--port" in capsys.readouterr().err


def test_launch_port_in_use(capsys):
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]
    try:
        code, _, err = run_cli(["launch", "--workers", "1", "--port", str(port), "--", "train", "--epochs", "1"],
                               capsys)
    finally:
        sock.close()
    assert_one_line_error(code, err, str(port), "in use")


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (root only; skipped elsewhere): a real full disk."""
    import subprocess
    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield str(mount)
    subprocess.run(["umount", str(mount)], capture_output=True)


@pytest.mark.parametrize("checkpoints", [True, False])
def test_real_full_disk_is_one_line(small_data_dir, tiny_disk, checkpoints, capsys):
    out = os.path.join(tiny_disk, "o")
    extra = [] if checkpoints else ["--no-checkpoints"]
    code, _, err = run_cli(train_argv(small_data_dir, out, *extra), capsys)
    assert_one_line_error(code, err, tiny_disk, "No space left on device")
    leftovers = [os.path.join(d, f) for d, _, files in os.walk(out) for f in files if f != ".lock"]
    assert not any(f.startswith(".") for f in map(os.path.basename, leftovers)), leftovers
