"""The worker's training path in one process, on a 'local' kvstore."""
import mxnet as mx
import numpy as np

from deepfm_gluon.distributed.worker import DistributedFitter, fit_shard, parameter_digest
from deepfm_gluon.models import build_model
from deepfm_gluon.training.config import TrainConfig
from deepfm_gluon.training.loop import fit

CONFIG = TrainConfig(epochs=2, batch_size=512, progress=False)


def test_kvstore_is_set_up_before_the_first_forward_pass(dist_split):
    """Gluon would otherwise broadcast the initial weights inside the first
    step(), racing the first gradient push on a dist kvstore."""
    net = build_model("fm", dist_split.train.field_dims)
    fitter = DistributedFitter(net, "fm", CONFIG, mx.kv.create("local"), 0, 1)
    fitter.initialize()
    assert fitter.trainer._kv_initialized and not fitter.trainer._params_to_init
    assert fitter.trainer._update_on_kvstore is False  # sync: servers only sum
    assert fitter.trainer._optimizer.rescale_grad == 1 / 512


def test_one_worker_trains_like_one_process(dist_split):
    single = build_model("fm", dist_split.train.field_dims)
    h1 = fit(single, "fm", dist_split.train, dist_split.test, CONFIG, log=None)
    worker = build_model("fm", dist_split.train.field_dims)
    h2 = fit_shard(worker, "fm", dist_split.train, dist_split.test, CONFIG, None,
                   mx.kv.create("local"), 0, 1)
    assert parameter_digest(worker) == parameter_digest(single)
    for a, b in zip(h1.epochs, h2.epochs):
        for key in ("train_loss", "train_acc", "test_auc", "test_logloss"):
            assert np.isclose(a[key], b[key], rtol=1e-9), key
    assert h2.last()["workers"] == 1 and h2.last()["train_metrics"] == "all workers"
