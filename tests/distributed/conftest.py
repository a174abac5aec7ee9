"""Fixtures for the distributed tests: a small synthetic data set on disk and
a way to run the CLI in a child process with this checkout on the path."""
import os
import subprocess
import sys

import pytest
from mxnet import npx

npx.set_np()

from deepfm_gluon.data.sources import load_split  # noqa: E402
from deepfm_gluon.data.synthetic import SyntheticSpec, generate_synthetic  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DIST_SPEC = SyntheticSpec(num_train=6000, num_test=1500)
# Tests of float arithmetic (1 vs 2 contexts within 1e-5) use a weaker planted signal (the
# generator's settings before the calibration to the book's curves): smaller gradients keep
# the summation-order differences of two contexts under the tolerance.
WEAK_SIGNAL_SPEC = SyntheticSpec(num_train=6000, num_test=1500, target_ctr=0.3, first_order_scale=0.6,
                                 parity_strength=1.6, nonlinear_strength=1.0, label_noise=0.0)


@pytest.fixture(scope="session")
def dist_data_dir(tmp_path_factory):
    return generate_synthetic(str(tmp_path_factory.mktemp("dist-data")), DIST_SPEC)


@pytest.fixture(scope="session")
def dist_split(dist_data_dir):
    return load_split(dist_data_dir)


@pytest.fixture(scope="session")
def weak_signal_split(tmp_path_factory):
    return load_split(generate_synthetic(str(tmp_path_factory.mktemp("weak-data")), WEAK_SIGNAL_SPEC))


def child_env():
    """This checkout first on the path, one thread per process, no DMLC_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMLC_")}
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env["MXNET_CPU_WORKER_NTHREADS"] = "1"
    return env


def run_cli(args, timeout=120, cwd=None):
    """``python -m deepfm_gluon ARGS`` with stdout and stderr merged."""
    return subprocess.run([sys.executable, "-m", "deepfm_gluon", *args], env=child_env(), cwd=cwd,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def _lines(stream, sink):
    for line in iter(stream.readline, ""):
        sink.put(line)
    sink.put(None)


def kill_mid_run(launch_args, victim, ready, deadline_s=120):
    """Run ``deepfm-gluon launch_args``, SIGKILL the role named ``victim``
    (e.g. 'worker 1') once ``ready(line)`` is true for an output line (or
    '' every 50 ms); returns (launcher exit code, output, victim pid, seconds
    from the kill to the launcher's exit)."""
    import queue  # the kill tests only
    import re
    import signal
    import threading
    import time
    launcher = subprocess.Popen([sys.executable, "-m", "deepfm_gluon", *launch_args], env=child_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = queue.Queue()
    threading.Thread(target=_lines, args=(launcher.stdout, lines), daemon=True).start()
    seen, pid = [], None
    try:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.05)
            except queue.Empty:
                line = ""
            assert line is not None, "the job ended before it could be killed:\n" + "".join(seen)
            seen.append(line)
            match = re.match(rf"started {victim} \(pid (\d+)\)", line)
            if match:
                pid = int(match.group(1))
            if pid is not None and ready(line):
                break
        else:
            raise AssertionError("training did not get there:\n" + "".join(seen))
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        code = launcher.wait(timeout=60)
        waited = time.monotonic() - killed
    finally:
        if launcher.poll() is None:
            launcher.terminate()  # the launcher stops its children on SIGTERM
            launcher.wait(timeout=30)
    while (line := lines.get(timeout=10)) is not None:
        seen.append(line)
    return code, "".join(seen), pid, waited
