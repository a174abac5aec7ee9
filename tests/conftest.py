"""Shared fixtures: numpy mode on, quiet MXNet, small data made once per session."""
import os

os.environ.setdefault("MXNET_STORAGE_FALLBACK_LOG_VERBOSE", "0")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # pytest-xdist runs two workers (setup.cfg addopts): one OpenMP thread each, so
    # they and the processes they start fill the cores without spinning against each other
    os.environ["OMP_NUM_THREADS"] = "1"

import pytest  # noqa: E402
from mxnet import npx  # noqa: E402

npx.set_np()

from deepfm_gluon.data.sources import load_split  # noqa: E402
from deepfm_gluon.data.synthetic import SyntheticSpec  # noqa: E402

SMALL_SPEC = SyntheticSpec(num_train=3000, num_test=600, max_cardinality=300)


@pytest.fixture(scope="session")
def data_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def small_split(data_root):
    """A small synthetic train/test pair, encoded."""
    return load_split("synthetic", data_dir=data_root, synthetic=SMALL_SPEC)


@pytest.fixture(scope="session")
def small_data_dir(small_split):
    return os.path.dirname(small_split.train.data_path)


def write_lines(path, lines, newline="\n"):
    with open(path, "w", newline="") as f:
        f.write(newline.join(lines) + newline)
    return str(path)
