"""Shared fixtures: numpy mode on, quiet MXNet, small data made once per session."""
import atexit
import os
import shutil
import tempfile

os.environ.setdefault("MXNET_STORAGE_FALLBACK_LOG_VERBOSE", "0")
if "DEEPFM_GLUON_CACHE_DIR" not in os.environ:
    # the processes tests start keep MXNet's op-function cache (deepfm_gluon/startup/op_cache.py) in a
    # private folder of this run (xdist workers inherit it), not in the user's own cache folder
    os.environ["DEEPFM_GLUON_CACHE_DIR"] = tempfile.mkdtemp(prefix="deepfm-gluon-tests-")
    atexit.register(shutil.rmtree, os.environ["DEEPFM_GLUON_CACHE_DIR"], ignore_errors=True)
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


# Test files of a minute or more on one xdist worker (pytest --durations, 2026-12-03), slowest
# first. setup.cfg passes --no-loadscope-reorder, so xdist hands files out in collection order:
# these start first and the two workers end on short files instead of one idling while the
# other runs a long one. Other files keep their collection order after them.
HEAVY_FIRST = (
    "tests/tuning/test_promise.py",
    "tests/distributed/test_sparse_job.py",
    "tests/notebooks/test_book_cells.py",
    "tests/notebooks/test_notebooks.py",
    "tests/distributed/test_zoo_jobs.py",
    "tests/distributed/test_dense_checkpoints.py",
    "tests/training/test_checkpoint.py",
    "tests/distributed/test_launch.py",
    "tests/reliability/test_fuzz.py",
    "tests/bench/test_bench_smoke.py",
    "tests/cli/test_protocols.py",
    "tests/models/test_plugin_model.py",
    "tests/cli/test_cli.py",
    "tests/tuning/test_tune.py",
)


def pytest_collection_modifyitems(config, items):
    """Heavy files first (HEAVY_FIRST), each file's tests in their own order."""
    rank = {path: i for i, path in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def write_lines(path, lines, newline="\n"):
    with open(path, "w", newline="") as f:
        f.write(newline.join(lines) + newline)
    return str(path)
