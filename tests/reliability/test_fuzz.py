"""A seeded fuzz of the CLI (issue 15): adversarial flags, file contents,
model directories and checkpoint files. Every case must end in exit 0 with
correct output or exit 2 with one line naming the problem: never a
traceback, never a hang (an alarm bounds each case), never a changed input.

The CLI runs in this process (deepfm_gluon.cli.main.main) for speed; a few
cases run as subprocesses with a timeout. CASES bounds the runtime."""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys

import pytest

from deepfm_gluon.cli import main

from .conftest import csv_of

SEED = 15
CASES = 24          # per group; about a minute in all on 2 cores
CASE_SECONDS = 60   # a case running longer counts as a hang

ODD_VALUES = ["0", "-5", "1e8", "100000000", "nan", "", "x", "3.5", "-", "/dev/null", "cpu:0", "cpu:100000",
              "0,0", "99999999999999999999", "gpu(9)", "1,", "\x00"]
ODD_JSON = [0, -1, 5, 1e8, 10 ** 12, "34", None, True, [], {}, [[[[]]]], "x" * 1000, -1000, 0.5]


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def run_case(argv, capsys):
    """(code, stderr) of one in-process CLI run, bounded by CASE_SECONDS."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CASE_SECONDS)
    try:
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's usage error
            code = exit_.code
    except Hang:
        pytest.fail(f"hang: {argv}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean(code, err, argv):
    assert "Traceback" not in err, (argv, err)
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        errors = [line for line in err.splitlines() if "error:" in line]
        assert len(errors) == 1 and errors[0].strip(), (argv, err)


def digest(folder):
    """sha1 of every file under ``folder`` (or of the file ``folder``)."""
    paths = [folder] if os.path.isfile(folder) else sorted(
        os.path.join(d, f) for d, _, files in os.walk(folder) for f in files)
    h = hashlib.sha1()
    for path in paths:
        h.update(path.encode())
        h.update(open(path, "rb").read())
    return h.hexdigest()


def mutate_lines(rng, lines):
    """A CTR file with adversarial edits."""
    lines = list(lines[: rng.randint(0, 60)])
    for _ in range(rng.randint(0, 6)):
        edit = rng.choice(["drop_field", "add_tab", "label", "blank", "garbage", "long", "crlf", "dup_first"])
        i = rng.randrange(len(lines)) if lines else 0
        if not lines:
            lines.append("")
        elif edit == "drop_field":
            lines[i] = "\t".join(lines[i].split("\t")[:-1])
        elif edit == "add_tab":
            lines[i] += "\t"
        elif edit == "label":
            lines[i] = rng.choice(["2", "yes", "", "-1"]) + lines[i][1:]
        elif edit == "blank":
            lines.insert(i, rng.choice(["", "   ", "\t"]))
        elif edit == "garbage":
            lines[i] = "".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(1, 40)))
        elif edit == "long":
            lines[i] = lines[i] + "x" * 10000
        elif edit == "crlf":
            lines[i] += "\r"
        else:
            lines.insert(0, "\t".join(lines[i].split("\t")[1:]))
    return lines


def test_fuzz_predict_inputs(fm_run, small_data_dir, tmp_path, capsys):
    rng = random.Random(SEED)
    base = open(csv_of(small_data_dir)).read().splitlines()
    model_digest = digest(fm_run)
    for case in range(CASES):
        src = tmp_path / f"in{case}.csv"
        if rng.random() < 0.1:
            src.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))))
        else:
            src.write_text("\n".join(mutate_lines(rng, base)) + rng.choice(["\n", ""]))
        before = digest(str(src))
        out = tmp_path / f"out{case}.txt"
        command = rng.choice(["predict", "evaluate"])
        argv = (["predict", "--model-dir", fm_run, "--input", str(src), "--output", str(out)]
                if command == "predict" else ["evaluate", "--model-dir", fm_run, "--data", str(src)])
        if rng.random() < 0.3:
            argv.append("--strict")
        code, _, err = run_case(argv, capsys)
        assert_clean(code, err, argv)
        assert digest(str(src)) == before
        if code == 0 and command == "predict":
            num_lines = len(src.read_bytes().decode().replace("\r\n", "\n").split("\n"))
            num_lines -= src.read_bytes().endswith(b"\n")
            assert len(out.read_text().splitlines()) == num_lines, argv
    assert digest(fm_run) == model_digest


def test_fuzz_model_dirs(fm_run, small_data_dir, tmp_path, capsys):
    rng = random.Random(SEED + 1)
    data = csv_of(small_data_dir)
    for case in range(CASES):
        run = str(tmp_path / f"m{case}")
        shutil.copytree(fm_run, run)
        name = rng.choice(["meta.json", "meta.json", "encoder.json", "mapping.json", "model.params"])
        path = os.path.join(run, name)
        if name == "model.params" or rng.random() < 0.2:
            raw = open(path, "rb").read()
            cut = rng.randrange(len(raw) + 1)
            open(path, "wb").write(raw[:cut] + bytes(rng.randrange(256) for _ in range(rng.randint(0, 20))))
        else:
            doc = json.load(open(path))
            target = doc["model_config"] if name == "meta.json" and rng.random() < 0.6 else doc
            if isinstance(target, dict) and target:
                target[rng.choice(sorted(target))] = rng.choice(ODD_JSON)
            json.dump(doc, open(path, "w"))
        before = digest(run)
        argv = ["predict", "--model-dir", run, "--input", data, "--output", str(tmp_path / f"p{case}.txt")]
        code, _, err = run_case(argv, capsys)
        assert_clean(code, err, argv)
        assert digest(run) == before


def test_fuzz_train_flags_and_checkpoints(fm_run, small_data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a fuzzed relative --out lands here, not in the checkout
    rng = random.Random(SEED + 2)
    flags = ["--epochs", "--batch-size", "--seed", "--devices", "--mlp-dims", "--num-factors", "--lr", "--out"]
    data_digest = digest(small_data_dir)
    for case in range(CASES):
        if rng.random() < 0.5:
            argv = ["train", "--model", rng.choice(["fm", "deepfm"]), "--data", small_data_dir,
                    "--epochs", "1", "--no-progress", "--out", str(tmp_path / f"o{case}")]
            for _ in range(rng.randint(1, 3)):
                argv += [rng.choice(flags), rng.choice(ODD_VALUES)]
        else:
            run = str(tmp_path / f"r{case}")
            shutil.copytree(fm_run, run)
            ckpt = os.path.join(run, "checkpoints")
            name = rng.choice(["latest.json", "epoch-0001/state.json", "epoch-0001/optimizer.states",
                               "epoch-0001/model.params"])
            path = os.path.join(ckpt, name)
            if rng.random() < 0.3:
                os.remove(path)
            elif name.endswith(".json") and rng.random() < 0.7:
                doc = json.load(open(path))
                doc[rng.choice(sorted(doc))] = rng.choice(ODD_JSON)
                json.dump(doc, open(path, "w"))
            else:
                raw = open(path, "rb").read()
                open(path, "wb").write(raw[: rng.randrange(len(raw) + 1)])
            argv = ["train", "--resume", run, "--no-progress", "--epochs", "2"]
            if rng.random() < 0.3:
                argv += [rng.choice(flags), rng.choice(ODD_VALUES)]
        code, _, err = run_case(argv, capsys)
        assert_clean(code, err, argv)
    assert digest(small_data_dir) == data_digest


@pytest.mark.parametrize("argv", [
    ["predict", "--model-dir", "{run}", "--input", "-", "--output", "-"],
    ["train", "--devices", "cpu:100000", "--epochs", "1"],
    ["predict", "--model-dir", "{run}", "--input", "/dev/null", "--output", "-"],
])
def test_fuzz_subprocess_cases(fm_run, small_data_dir, tmp_path, argv):
    argv = [a.replace("{run}", fm_run) for a in argv]
    rng = random.Random(SEED + 3)
    stdin = "\n".join(mutate_lines(rng, open(csv_of(small_data_dir)).read().splitlines())).encode()
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", *argv], input=stdin, capture_output=True,
                          timeout=120, cwd=tmp_path)
    err = proc.stderr.decode()
    assert_clean(proc.returncode, err, argv)
