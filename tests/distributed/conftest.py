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
