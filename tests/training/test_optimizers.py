"""One optimizer/Trainer builder for every fitter, and optimizers as checked data."""
import json
import pathlib
import re

import mxnet as mx
import pytest

from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.training.optimizers import (OPTIMIZERS, make_table_optimizer, make_trainer,
                                              optimizer_from_spec, optimizer_spec)
from deepfm_gluon.training.config import TrainConfig

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "deepfm_gluon"


def test_every_fitter_builds_its_trainer_through_make_trainer():
    """No fitter constructs a gluon.Trainer of its own (the book's pipeline,
    reproduced verbatim for benchmarks, is the one exception)."""
    builders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        if re.search(r"gluon\.Trainer\(|Trainer\(", text) and path.name not in ("optimizers.py",
                                                                                 "book_pipeline.py"):
            builders.append(str(path.relative_to(PACKAGE)))
    assert builders == []


def test_make_trainer_steps_like_gluons_own_trainer():
    mx.npx.set_np()
    weights = []
    for build in (lambda p: mx.gluon.Trainer(p, "adam", {"learning_rate": 0.1}),
                  lambda p: make_trainer(p, TrainConfig(optimizer="adam", fused_adam=False), 0.1)):
        param = mx.gluon.Parameter("w", shape=(3,))
        param.initialize(mx.init.Constant(1.0))
        trainer = build([param])
        for _ in range(3):
            with mx.autograd.record():
                loss = (param.data() * mx.np.array([1.0, 2.0, 3.0])).sum()
            loss.backward()
            trainer.step(2)
        weights.append(param.data().asnumpy())
    assert weights[0].tobytes() == weights[1].tobytes()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_spec_survives_json_and_builds_the_same_optimizer(name):
    table = make_table_optimizer(name, 0.05, 1.0 / 512)
    spec = json.loads(json.dumps(optimizer_spec(table)))
    again = optimizer_from_spec(spec)
    assert type(again) is type(table)
    assert (again.learning_rate, again.rescale_grad) == (table.learning_rate, table.rescale_grad)
    assert getattr(again, "lazy_update", None) == getattr(table, "lazy_update", None)


@pytest.mark.parametrize("spec, words", [
    ({"name": "os.system", "learning_rate": 0.1}, "expected one of"),
    ({"name": "adam", "learning_rate": 0.1, "param_dict": {}}, "'param_dict' is not allowed"),
    ({"name": "adagrad", "learning_rate": 0.1, "lazy_update": True}, "'lazy_update' is not allowed"),
    ({"name": "adam", "learning_rate": float("nan")}, "out of range"),
    ({"name": "adam", "learning_rate": "0.1"}, "out of range"),
    ({"name": "adam"}, "no learning_rate"),
    (["adam"], "expected one of"),
])
def test_a_spec_outside_the_allow_list_is_refused_by_name(spec, words):
    with pytest.raises(DeepFMError, match=re.escape(words)):
        optimizer_from_spec(spec)
