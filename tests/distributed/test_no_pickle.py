"""Nothing is ever unpickled: not a server command, not a file of a
checkpoint. Each test plants a pickle whose loading would create a marker
file, where a pickle could be read, and shows the marker never appears."""
import io
import os
import pathlib
import pickle
import re
import sys

import numpy as np

from deepfm_gluon.distributed.launcher import build_job, run_job

from .conftest import REPO, child_env, kill_mid_run, run_cli

PACKAGE = pathlib.Path(REPO) / "deepfm_gluon"


class Planted:
    """Unpickling it opens ``path`` for writing: the marker."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


# The one reader of serialized code, and why it is not a way in: it reads only the file it writes
# itself in the user's own cache folder (as Python's own __pycache__ files hold marshalled code), and
# only a file the user owns that no one else can write; never a checkpoint, model dir or network input.
MARSHAL_OF_THE_OP_CACHE = ("startup/op_cache.py", "import marshal")


def test_the_package_has_no_way_to_unpickle():
    """No pickle module, no MXNet set_optimizer (it pickles to the servers),
    and every np.load refuses object arrays (pickles inside .npy files)."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            if (str(path.relative_to(PACKAGE)), code.strip()) == MARSHAL_OF_THE_OP_CACHE:
                continue
            if (re.search(r"\bimport (c?pickle|dill|joblib|shelve|marshal)\b|\bpickle\.\w+\(", code)
                    or (re.search(r"\.set_optimizer\(", code) and "on a server: sets the updater" not in line)
                    or ("np.load(" in code and "allow_pickle=False" not in code)):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


WORKER = """
import sys
import mxnet as mx
from deepfm_gluon.distributed.ps_optimizer import optimizer_command
from deepfm_gluon.training.optimizers import make_table_optimizer
kv = mx.kv.create("dist_sync")
kv._send_command_to_servers(0, open(sys.argv[1]).read())   # what kv.set_optimizer sends: a pickle
kv._send_command_to_servers(0, optimizer_command(make_table_optimizer("adam", 0.1, 1.0), None, [1 << 20]))
kv._send_command_to_servers(0, "DFM STATS")
print("worker done", flush=True)
"""


def test_a_pickled_server_command_is_refused_unread(tmp_path, monkeypatch):
    marker, planted = tmp_path / "marker", tmp_path / "planted.txt"
    planted.write_text(pickle.dumps(Planted(str(marker)), 0).decode())
    for name, value in child_env().items():
        monkeypatch.setenv(name, value)
    job = build_job(1, 1, ["train"])
    job.roles[-1].argv = [sys.executable, "-c", WORKER, str(planted)]
    out = io.StringIO()
    run_job(job, log=lambda line: None, out=out, timeout=120, settle=20)
    text = out.getvalue()
    assert "worker done" in text, text
    assert re.search(r"\[server 0\] server 0: refused command 0 \(\d+ bytes, not a DFM command", text), text
    assert "[server 0] server 0: rows pushed {}" in text, text  # it went on serving
    assert not marker.exists()


def test_a_pickle_planted_in_a_server_checkpoint_is_never_loaded(dist_data_dir, tmp_path):
    """A parameter-server job's checkpoint holds .npy files the servers read
    on --resume: one replaced by an object array (a pickle inside) ends the
    job with one line naming it; the pickle never runs."""
    victim, marker = tmp_path / "victim", tmp_path / "marker"
    latest = victim / "checkpoints" / "latest.json"
    launch = ["launch", "--workers", "2", "--servers", "1", "--timeout", "150", "--"]
    train = ["train", "--model", "fm", "--data", dist_data_dir, "--batch-size", "512", "--sparse",
             "--epochs", "4", "--no-progress", "--no-report", "--out", str(victim)]
    code, text, _, _ = kill_mid_run([*launch, *train], "worker 1",
                                    lambda line: latest.exists() and '"epoch": 1' in latest.read_text())
    assert code == 2, text
    epoch = re.search(r'"epoch": (\d+)', latest.read_text()).group(1)
    states = sorted((victim / "checkpoints" / "servers" / f"epoch-{int(epoch):04d}").glob("*.npy"))
    assert states, text
    np.save(states[0], np.array([Planted(str(marker))], dtype=object), allow_pickle=True)
    resumed = run_cli([*launch, "train", "--resume", str(victim)], timeout=180)
    assert resumed.returncode == 2, resumed.stdout
    assert re.search(rf"server 0: error: DFM LOAD: .*allow_pickle=False", resumed.stdout), resumed.stdout
    assert "Traceback" not in resumed.stdout
    assert not marker.exists()
