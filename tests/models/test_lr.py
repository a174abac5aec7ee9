"""LR: the logit is b + w * sum_f w_{x_f}, against plain numpy."""
import pytest

from deepfm_gluon.models import get_spec

from .zoo_oracle import FIELD_DIMS, check_forward, check_onnx, check_sparse_training, random_inputs, random_model


def reference_logit(params, x):
    w, b = params["linear_layer.weight"][0, 0], params["linear_layer.bias"][0]
    return [b + w * sum(params["fc.weight"][i, 0] for i in row) for row in x]


def test_forward_matches_numpy():
    check_forward(random_model("lr"), reference_logit, random_inputs(FIELD_DIMS, 32))


def test_spec():
    spec = get_spec("lr")
    assert spec.tables == ("fc",) and spec.output_bias == "linear_layer.bias"
    net = random_model("lr")
    assert net.config() == {"field_dims": FIELD_DIMS}
    assert sorted(p.shape for p in net.collect_params().values()) == [(1,), (1, 1), (sum(FIELD_DIMS), 1)]


@pytest.mark.parametrize("name", ["num_factors"])
def test_has_no_embedding_hyperparameters(name):
    assert "has no hyperparameter" in get_spec("lr").config_problem({name: 4})


def test_onnx_export_matches():
    check_onnx(random_model("lr"), "lr", random_inputs(FIELD_DIMS, 64))


def test_sparse_training_lowers_the_loss(small_split):
    check_sparse_training("lr", small_split)


@pytest.mark.parametrize("sparse", [False, True])
def test_the_scale_stays_one_so_embedding_l2_is_plain_l2(small_split, sparse):
    """Free, the Dense(1) scale grew under embedding L2 and let the penalty leak (issue 20)."""
    from deepfm_gluon.experiments.runner import train_model  # noqa: local: the model tests need no runner
    from deepfm_gluon.training.config import TrainConfig
    config = TrainConfig(epochs=2, batch_size=256, lr=0.05, embedding_l2=1e-2, sparse=sparse, progress=False)
    net, history, _ = train_model("lr", small_split, config, log=None)
    assert float(net.linear_layer.weight.data().asnumpy().ravel()[0]) == 1.0
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
