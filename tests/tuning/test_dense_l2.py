"""dense_l2: (lambda/2)*||w||^2 on every parameter but the embedding tables,
checked against plain arithmetic on one SGD step (w1 = w1_without - lr*lambda*w0)."""
import numpy as np
import pytest

from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.models import build_model
from deepfm_gluon.training.config import RunSpec, TrainConfig
from deepfm_gluon.training.loop import Fitter
from deepfm_gluon.training.sparse import SparseFitter

LR, L2 = 0.1, 0.05


def one_step(kind, dense_l2, fitter_class=Fitter):
    config = TrainConfig(batch_size=8, lr=LR, optimizer="sgd", dense_l2=dense_l2, hybridize=False,
                         progress=False, seed=3)
    net = build_model(kind, [5, 4, 3], num_factors=2, **({"mlp_dims": [4]} if kind == "deepfm" else {}))
    fitter = fitter_class(net, kind, config)
    fitter.initialize()
    before = {name: p.data().asnumpy().copy() for name, p in net._collect_params_with_prefix().items()}
    rng = np.random.default_rng(0)
    X = np.stack([rng.integers(0, 5, 8), 5 + rng.integers(0, 4, 8), 9 + rng.integers(0, 3, 8)], axis=1)
    fitter.step(X, rng.integers(0, 2, 8).astype(np.float32))
    return before, {name: p.data().asnumpy() for name, p in net._collect_params_with_prefix().items()}


@pytest.mark.parametrize("kind, fitter_class", [("deepfm", Fitter), ("fm", SparseFitter)])
def test_dense_l2_decays_every_dense_parameter_and_no_table(kind, fitter_class):
    before, plain = one_step(kind, 0.0, fitter_class)
    _, decayed = one_step(kind, L2, fitter_class)
    tables = [name for name in before if name.startswith(("embedding", "fc"))]
    assert len(tables) == 2 and len(before) > 2
    for name, w0 in before.items():
        expected = plain[name] if name in tables else plain[name] - LR * L2 * w0
        np.testing.assert_allclose(decayed[name], expected, rtol=1e-5, atol=1e-7, err_msg=name)


def test_dense_l2_refusals_are_one_sentence():
    with pytest.raises(DeepFMError, match="--dense-l2 -1"):
        RunSpec(config=TrainConfig(dense_l2=-1)).validate()
    with pytest.raises(DeepFMError, match="--dense-l2 does not combine with --book-compat"):
        RunSpec(config=TrainConfig(dense_l2=1e-4, book_compat=True)).validate()
