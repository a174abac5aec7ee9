"""The worker's training path in one process, on a 'local' kvstore."""
import mxnet as mx
import numpy as np

from deepfm_gluon import gluon_compat
from deepfm_gluon.distributed.worker import DistributedFitter, parameter_digest, train_worker
from deepfm_gluon.models import build_model
from deepfm_gluon.training.config import TrainConfig
from deepfm_gluon.training.driver import fit

CONFIG = TrainConfig(epochs=2, batch_size=512, progress=False)


def test_kvstore_is_set_up_before_the_first_forward_pass(dist_split):
    """Gluon would otherwise broadcast the initial weights inside the first
    step(), racing the first gradient push on a dist kvstore."""
    net = build_model("fm", dist_split.train.field_dims)
    fitter = DistributedFitter(net, "fm", CONFIG, mx.kv.create("local"), 0, 1)
    fitter.initialize()
    assert gluon_compat.kvstore_ready(fitter.trainer)
    assert gluon_compat.updates_on_kvstore(fitter.trainer) is False  # sync: servers only sum
    assert gluon_compat.trainer_optimizer(fitter.trainer).rescale_grad == 1 / 512


def test_one_worker_trains_like_one_process(dist_split):
    single = build_model("fm", dist_split.train.field_dims)
    h1 = fit(single, "fm", dist_split.train, dist_split.test, CONFIG, log=None)
    worker = build_model("fm", dist_split.train.field_dims)
    fitter = DistributedFitter(worker, "fm", CONFIG, mx.kv.create("local"), 0, 1)
    h2 = train_worker(fitter, dist_split.train, dist_split.test, log=None)
    assert parameter_digest(worker) == parameter_digest(single)
    for a, b in zip(h1.epochs, h2.epochs):
        for key in ("train_loss", "train_acc", "test_auc", "test_logloss"):
            assert np.isclose(a[key], b[key], rtol=1e-9), key
    assert h2.last()["workers"] == 1 and h2.last()["train_metrics"] == "all workers"
