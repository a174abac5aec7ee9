"""The step's one-graph forward (training/objective.py) against the operator-by-
operator path it replaces: the eager model, Gluon's loss and the statistics
op by op. Loss, output, statistics and every gradient must be bit for bit equal."""
import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, gluon, np

from deepfm_gluon import gluon_compat
from deepfm_gluon.models import LogitView, build_model
from deepfm_gluon.training.objective import TrainingObjective


def run(net, hybrid, book_compat, X, y, seed):
    """(loss, stats, {name: gradient}) of one forward/backward."""
    scorer = net if book_compat else LogitView(net)
    loss_fn = gluon.loss.SigmoidBinaryCrossEntropyLoss()
    mx.random.seed(seed)  # the same dropout masks
    if hybrid:
        objective = TrainingObjective(scorer, loss_fn, book_compat)
        objective.hybridize(static_alloc=True, static_shape=True)
        with autograd.record():
            loss, stats = objective(X, y)
    else:  # the loop before: model, loss and statistics called one by one
        with autograd.record():
            out = scorer(X)
            loss = loss_fn(out, y)
        correct = ((out > 0.5) if book_compat else (out > 0)) == (y > 0.5)
        parts = [loss.sum(), correct.sum().astype(onp.float32)]
        if book_compat:
            parts.append((out == y).sum().astype(onp.float32))
        stats = np.stack(parts)
    loss.backward()
    grads = {k: p.grad().asnumpy().copy() for k, p in gluon_compat.params_by_structural_name(net).items()
             if p.grad_req != "null"}
    return loss.asnumpy(), stats.asnumpy(), grads


@pytest.mark.parametrize("kind", ["lr", "fm", "deepfm"])
@pytest.mark.parametrize("book_compat", [False, True])
def test_one_graph_equals_the_operator_by_operator_step(small_split, kind, book_compat):
    net = build_model(kind, small_split.train.field_dims)
    net.initialize(mx.init.Xavier())
    X = np.array(small_split.train.features[:256], dtype="int32")
    y = np.array(small_split.train.labels[:256].reshape(-1, 1), dtype="float32")
    eager = run(net, False, book_compat, X, y, seed=3)
    graph = run(net, True, book_compat, X, y, seed=3)
    for a, b in zip(eager[:2], graph[:2]):  # the statistics count the outputs' signs
        onp.testing.assert_array_equal(a, b)
    assert eager[2].keys() == graph[2].keys()
    for name in eager[2]:
        onp.testing.assert_array_equal(eager[2][name], graph[2][name], err_msg=name)
    assert graph[1].shape == ((3,) if book_compat else (2,))
    assert graph[1][0] == pytest.approx(float(eager[0].sum()), rel=1e-6)
