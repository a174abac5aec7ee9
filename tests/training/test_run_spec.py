"""RunSpec.validate: the one place that rejects impossible option combinations,
and is_dist_kvstore: the one test of "is this a parameter-server kvstore"."""
import dataclasses

import mxnet as mx
import pytest

from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.training.config import RunSpec, TrainConfig, is_dist_kvstore

CONFIG = TrainConfig(epochs=1, progress=False, devices="cpu")
SPARSE = dataclasses.replace(CONFIG, sparse=True)


@pytest.mark.parametrize("kvstore, expected", [
    ("dist_sync", True), ("dist_async", True), ("device", False), ("local", False), (None, False),
])
def test_is_dist_kvstore_names(kvstore, expected):
    assert is_dist_kvstore(kvstore) is expected


def test_is_dist_kvstore_objects():
    assert is_dist_kvstore(mx.kv.create("local")) is False
    assert is_dist_kvstore(mx.kv.create("device")) is False

    class FakeDist:  # a real dist kvstore would wait for a scheduler
        type = "dist_sync"
    assert is_dist_kvstore(FakeDist()) is True


@pytest.mark.parametrize("spec, message", [
    (RunSpec(kvstore="nccl2"), "--kvstore nccl2: expected one of"),
    (RunSpec(model="fm", model_overrides={"mlp_dims": [3]}), "model fm has no hyperparameter 'mlp_dims'; its hyperparameters: num_factors"),
    (RunSpec(model="deepfm", model_overrides={"num_factors": 0}), "model deepfm: num_factors: expected 1..4096, got 0"),
    (RunSpec(model="nosuch"), "unknown model 'nosuch'; known models: "),
    (RunSpec(hash_buckets=10), "--hash-buckets applies to --data avazu:PATH, criteo:PATH, csv:PATH only"),
    (RunSpec(resume=True), "resume needs a checkpoint directory"),
    (RunSpec(resume=True), "--resume and --no-checkpoints exclude each other"),
    (RunSpec(kvstore="dist_async", config=SPARSE, checkpoint_dir="c"), "need --kvstore dist_sync"),
    (RunSpec(kvstore="dist_async", config=CONFIG, checkpoint_dir="c"), "need --kvstore dist_sync"),
    (RunSpec(kvstore="dist_async", config=dataclasses.replace(CONFIG, early_stop=2)), "needs --kvstore dist_sync"),
    (RunSpec(kvstore="dist_async", config=dataclasses.replace(SPARSE, devices="cpu:2")), "one device per worker"),
    (RunSpec(config=dataclasses.replace(SPARSE, book_compat=True)), "--book-compat"),
])
def test_impossible_combinations_are_one_clear_error(spec, message):
    with pytest.raises(DeepFMError, match=message.replace("(", r"\(")):
        spec.validate()
    assert "\n" not in spec.problem()


@pytest.mark.parametrize("spec", [
    RunSpec(),
    RunSpec(model="fm", config=CONFIG, checkpoint_dir="c", resume=True),
    RunSpec(config=SPARSE),
    RunSpec(data="criteo:/x.txt", hash_buckets=1000),
    RunSpec(kvstore="dist_sync", config=CONFIG),
    # distributed dense and parameter-server jobs checkpoint, resume and stop early (dist_sync)
    RunSpec(kvstore="dist_sync", config=dataclasses.replace(CONFIG, early_stop=2), checkpoint_dir="c", resume=True),
    RunSpec(kvstore="dist_sync", config=dataclasses.replace(SPARSE, early_stop=2), checkpoint_dir="c", resume=True),
    RunSpec(kvstore=mx.kv.create("local"), config=CONFIG, checkpoint_dir="c"),
])
def test_possible_combinations_pass(spec):
    assert spec.validate() is spec and spec.problem() is None


def test_the_cli_offers_the_kvstores_runspec_accepts():
    """cli/parser.py keeps its own list (it must not import training/, which loads MXNet)."""
    from deepfm_gluon.cli.parser import KVSTORE_CHOICES
    from deepfm_gluon.training.config import KVSTORES
    assert KVSTORE_CHOICES == list(KVSTORES)
