"""Large tables are initialised without full-size temporaries and sparse
tables get no gradient buffer; small nets initialise exactly as before."""
import mxnet as mx
import numpy as onp
import pytest
from mxnet import init, npx

from deepfm_gluon.models import build_model
from deepfm_gluon.training import tables
from deepfm_gluon.training.loop import seed_everything


@pytest.fixture(autouse=True)
def numpy_mode():
    npx.set_np()


def values(net):
    return {k: p.data().asnumpy() for k, p in net.collect_params().items()}


def test_small_nets_initialise_exactly_as_gluon_does():
    a, b = build_model("deepfm", [30, 40, 50]), build_model("deepfm", [30, 40, 50])
    seed_everything(3)
    a.initialize(init.Xavier(), ctx=[mx.cpu()], force_reinit=True)
    seed_everything(3)
    tables.init_parameters(b, [mx.cpu()], sparse_tables=("embedding", "fc"))
    for (ka, va), vb in zip(values(a).items(), values(b).values()):
        onp.testing.assert_array_equal(va, vb, err_msg=ka)


def test_sparse_tables_have_no_gradient_buffer_and_dense_blocks_do():
    net = build_model("deepfm", [300, 400])
    tables.init_parameters(net, [mx.cpu()], sparse_tables=("embedding", "fc"), large_rows=100)
    assert net.embedding.weight.grad_req == "null" and net.fc.weight.grad_req == "null"
    with pytest.raises(RuntimeError):
        net.embedding.weight.grad()
    assert all(p.grad().shape == p.shape for k, p in net.collect_params().items()
               if "embedding" not in k and k.split("_")[-1] != "fc" and p.grad_req != "null")


def test_on_several_devices_the_sparse_tables_have_one_copy_on_the_first():
    devices = [mx.cpu(0), mx.cpu(1)]
    a, b = build_model("deepfm", [30, 40, 50]), build_model("deepfm", [30, 40, 50])
    seed_everything(5)
    a.initialize(init.Xavier(), ctx=devices, force_reinit=True)
    seed_everything(5)
    tables.init_parameters(b, devices, sparse_tables=("embedding", "fc"))
    assert b.embedding.weight.list_ctx() == [mx.cpu(0)] and b.fc.weight.list_ctx() == [mx.cpu(0)]
    assert all(p.list_ctx() == devices for k, p in b.collect_params().items()
               if p is not b.embedding.weight and p is not b.fc.weight)
    for (ka, va), vb in zip(values(a).items(), values(b).values()):  # Gluon's values all the same
        onp.testing.assert_array_equal(va, vb, err_msg=ka)


def test_large_tables_are_filled_a_slice_at_a_time_with_xaviers_bound(monkeypatch):
    net = build_model("fm", [5000, 7000])
    drawn = []
    uniform = mx.np.random.uniform
    monkeypatch.setattr(mx.np.random, "uniform", lambda *a, **k: (drawn.append(k.get("size") or a[2]), uniform(*a, **k))[1])
    monkeypatch.setattr(tables, "SLICE_ROWS", 1000)
    monkeypatch.setattr(tables.init_in_slices, "__defaults__", (1000,))
    tables.init_parameters(net, [mx.cpu()], sparse_tables=("embedding", "fc"), large_rows=100)
    assert drawn and max(rows for rows, _ in drawn) <= 1000  # no temporary larger than a slice
    weight = net.embedding.weight.data().asnumpy()
    bound = onp.sqrt(3.0 / ((12000 + net.embedding.weight.shape[1]) / 2))  # Gluon's Xavier, by hand
    assert weight.shape == (12000, net.embedding.weight.shape[1])
    assert onp.abs(weight).max() <= bound and onp.abs(weight).max() > 0.95 * bound
    assert abs(weight.std() - bound / onp.sqrt(3)) < 0.05 * bound
    assert len(onp.unique(weight[:1000])) > 900 and not onp.array_equal(weight[:1000], weight[1000:2000])
    out = net(mx.np.array([[1, 6000]], dtype="int32"))  # the net runs on the adopted arrays
    assert out.shape == (1,) or out.shape == (1, 1)


def test_all_finite_checks_every_slice():
    array = onp.zeros((2500, 3), dtype=onp.float32)
    assert tables.all_finite(mx.np.array(array), slice_rows=1000)
    array[2400, 1] = onp.nan
    assert not tables.all_finite(mx.np.array(array), slice_rows=1000)
    assert not tables.all_finite(mx.np.array(array))

