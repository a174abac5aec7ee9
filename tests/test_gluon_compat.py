"""Gluon's private internals that deepfm_gluon/gluon_compat.py relies on.

Each test fails on an MXNet whose internals changed, naming the function to
adapt; the oracle is Gluon's own public behaviour (step, save_parameters).
"""
import inspect
import sys

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, gluon
from mxnet.gluon import nn

from deepfm_gluon import gluon_compat as compat


class Tiny(nn.HybridBlock):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(5, 2)
        self.fc = nn.Dense(1, in_units=4)

    def hybrid_forward(self, F, x):
        return self.fc(self.embedding(x).reshape(-1, 4))


def tiny_trainer(kvstore="device", update_on_kvstore=False):
    net = Tiny()
    net.initialize(mx.init.Xavier(), ctx=[mx.cpu()])
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.1},
                            kvstore=kvstore, update_on_kvstore=update_on_kvstore)
    return net, trainer


def one_step(net, trainer, batch=2):
    x = mx.np.array([[0, 1], [2, 3]][:batch], dtype=np.int32)
    with autograd.record():
        loss = net(x).sum()
    loss.backward()
    trainer.step(batch)


def test_trainer_updaters_hold_adam_states_per_parameter():
    net, trainer = tiny_trainer()
    one_step(net, trainer)
    updaters = compat.trainer_updaters(trainer)
    assert isinstance(updaters, list) and len(updaters) == 1
    states = updaters[0].states
    assert isinstance(states, dict) and len(states) == len(list(net.collect_params().values()))
    mean, var = next(iter(states.values()))  # Adam: (mean, variance)
    assert isinstance(mean, mx.nd.NDArray) and isinstance(var, mx.nd.NDArray)
    assert isinstance(updaters[0].states_synced, dict)


def test_trainer_optimizer_and_update_counts_follow_steps():
    net, trainer = tiny_trainer()
    optimizer = compat.trainer_optimizer(trainer)
    assert isinstance(optimizer, mx.optimizer.Adam)
    for _ in range(3):
        one_step(net, trainer)
    counts = compat.update_counts(optimizer)
    assert isinstance(counts, dict) and set(counts) == {0}
    assert set(counts[0].values()) == {3} and optimizer.num_update == 3


def test_set_update_counts_drives_the_next_step():
    """Restored counts must change Adam's bias correction exactly as the real ones."""
    def run(restore):
        mx.random.seed(0)
        net, trainer = tiny_trainer()
        for _ in range(2):
            one_step(net, trainer)
        if restore:
            counts = {d: dict(c) for d, c in compat.update_counts(compat.trainer_optimizer(trainer)).items()}
            compat.set_update_counts(compat.trainer_optimizer(trainer), {0: {}})
            compat.set_update_counts(compat.trainer_optimizer(trainer), counts)
        one_step(net, trainer)
        return net.fc.weight.data().asnumpy()
    assert np.array_equal(run(False), run(True))
    optimizer = compat.trainer_optimizer(tiny_trainer()[1])
    compat.set_update_counts(optimizer, {0: {1: 7}, 1: {}})
    assert optimizer._index_update_count == {1: 7}  # what update() increments


def test_init_kvstore_now_sets_up_the_kvstore_before_any_step():
    net, trainer = tiny_trainer(kvstore=mx.kv.create("local"), update_on_kvstore=False)
    assert not compat.kvstore_ready(trainer)
    assert compat.trainer_scale(trainer) == 1.0
    compat.init_kvstore_now(trainer, 0.25)
    assert compat.kvstore_ready(trainer)
    assert compat.updates_on_kvstore(trainer) is False
    assert compat.trainer_optimizer(trainer).rescale_grad == 0.25
    one_step(net, trainer)  # and a normal step still works afterwards


def test_child_block_names_in_registration_order():
    assert compat.child_block_names(Tiny()) == ["embedding", "fc"]


def test_params_by_structural_name_match_save_parameters(tmp_path):
    net, _ = tiny_trainer()
    names = compat.params_by_structural_name(net)
    assert sorted(names) == ["embedding.weight", "fc.bias", "fc.weight"]
    assert all(isinstance(p, gluon.Parameter) for p in names.values())
    net.save_parameters(str(tmp_path / "p.params"))
    saved = mx.nd.load(str(tmp_path / "p.params"))
    assert sorted(saved) == sorted(names)
    for name, param in names.items():
        np.testing.assert_array_equal(saved[name].asnumpy(), param.data().asnumpy())


def test_kvstore_barrier_and_server_commands():
    """The real round trips run in tests/distributed/test_sparse_job.py (DFM SAVE/LOAD)."""
    compat.kvstore_barrier(mx.kv.create("local"))  # one process: returns at once
    assert callable(getattr(mx.kv.KVStore, "_send_command_to_servers", None))

    class Recorder:
        def __init__(self):
            self.calls = []

        def _send_command_to_servers(self, head, body):
            self.calls.append((head, body))
    kv = Recorder()
    compat.send_server_command(kv, "DFM STATS")
    assert kv.calls == [(0, "DFM STATS")]


def test_has_cached_graph_only_after_a_hybridized_forward():
    net, _ = tiny_trainer()
    x = mx.np.array([[0, 1], [2, 3]], dtype=np.int32)
    net(x)
    assert not compat.has_cached_graph(net)  # imperative
    net.hybridize()
    assert not compat.has_cached_graph(net)  # the graph is built on the first call
    net(x)
    assert compat.has_cached_graph(net)


COVERED = ("trainer_params", "trainer_updaters", "trainer_optimizer", "update_counts", "set_update_counts",
           "init_kvstore_now", "trainer_scale", "kvstore_ready", "updates_on_kvstore",
           "child_block_names", "params_by_structural_name", "kvstore_barrier", "send_server_command",
           "adopt_parameter_data", "save_parameters_without_copies", "load_parameters_in_place", "open_arrays_file",
           "has_cached_graph", "own_parameter_names", "bind_parameter_arrays", "trainer_updates_here_on_one_device",
           "count_step", "parameter_ready", "trainer_kvstore_choice", "storage_types", "has_fresh_gradient",
           "mark_gradient_used", "parameter_arrays_on_one_cpu")


def test_an_adopted_array_is_the_parameter_without_a_copy_or_gradient():
    mx.npx.set_np()
    layer = nn.Embedding(50, 3)
    layer.weight.grad_req = "null"
    data = mx.np.arange(150, dtype="float32").reshape(50, 3)
    compat.adopt_parameter_data(layer.weight, data)
    assert layer.weight.data() is data and layer.weight.list_ctx() == [mx.cpu()]
    np.testing.assert_array_equal(layer(mx.np.array([2], dtype="int32")).asnumpy(), [[6, 7, 8]])


def test_saving_without_copies_writes_the_bytes_gluon_writes(tmp_path):
    mx.npx.set_np()
    net = nn.HybridSequential()
    net.add(nn.Embedding(40, 4), nn.Dense(2))
    net.initialize()
    net(mx.np.array([[1, 2]], dtype="int32"))
    net.save_parameters(str(tmp_path / "gluon.params"))
    compat.save_parameters_without_copies(net, str(tmp_path / "ours.params"))
    assert (tmp_path / "gluon.params").read_bytes() == (tmp_path / "ours.params").read_bytes()


def saved_and_blank_nets(tmp_path, ctx):
    """A trained-looking net saved by Gluon, and a zero-initialized twin to load into."""
    mx.npx.set_np()
    nets = []
    for init in (mx.init.Xavier(), mx.init.Zero()):
        net = nn.HybridSequential()
        net.add(nn.Embedding(700, 4), nn.Dense(3))
        net.initialize(init, ctx=ctx)
        net(mx.np.array([[1, 2]], dtype="int32", ctx=ctx[0]))
        nets.append(net)
    nets[0].save_parameters(str(tmp_path / "gluon.params"))
    return nets


def test_loading_in_place_gives_what_gluons_load_gives_on_every_device(tmp_path, monkeypatch):
    ctx = [mx.cpu(0), mx.cpu(1)]
    saved, ours = saved_and_blank_nets(tmp_path, ctx)
    _, gluons = saved_and_blank_nets(tmp_path / "..", ctx)
    gluons.load_parameters(str(tmp_path / "gluon.params"), ctx=None)
    monkeypatch.setattr(compat, "_LOAD_SLICE_BYTES", 100)  # many slices per table
    monkeypatch.setattr(mx.nd, "load", None)  # no whole-file load on this path
    monkeypatch.setattr(mx.npx, "load", None)
    compat.load_parameters_in_place(ours, str(tmp_path / "gluon.params"))
    for (key, p), q, r in zip(ours.collect_params().items(), gluons.collect_params().values(),
                              saved.collect_params().values()):
        for mine, theirs, original in zip(p.list_data(), q.list_data(), r.list_data()):
            np.testing.assert_array_equal(mine.asnumpy(), theirs.asnumpy(), err_msg=key)
            np.testing.assert_array_equal(mine.asnumpy(), original.asnumpy(), err_msg=key)


def test_loading_in_place_leaves_files_it_does_not_take_to_gluon(tmp_path):
    _, blank = saved_and_blank_nets(tmp_path, [mx.cpu()])
    other = nn.HybridSequential()
    other.add(nn.Embedding(70, 4), nn.Dense(3))  # another shape: Gluon's own error
    other.initialize()
    other(mx.np.array([[1, 2]], dtype="int32"))
    other.save_parameters(str(tmp_path / "other.params"))
    with pytest.raises(AssertionError, match="shape incompatible"):
        compat.load_parameters_in_place(blank, str(tmp_path / "other.params"))
    whole = (tmp_path / "gluon.params").read_bytes()
    (tmp_path / "cut.params").write_bytes(whole[:len(whole) // 2])
    with pytest.raises(ValueError, match="Invalid NDArray file format"):  # Gluon's error, as Gluon raises it
        compat.load_parameters_in_place(blank, str(tmp_path / "cut.params"))


def test_trainer_params_are_in_the_index_order_of_its_states():
    mx.npx.reset_np()
    net, trainer = tiny_trainer()
    with autograd.record():
        loss = net(mx.nd.array([[1, 2]])).sum()
    loss.backward()
    trainer.step(1)
    states = compat.trainer_updaters(trainer)[0].states
    params = compat.trainer_params(trainer)
    assert sorted(states) == list(range(len(params)))
    for i, param in enumerate(params):  # Adam's mean has the shape of its parameter
        assert states[i][0].shape == param.shape


def test_an_arrays_file_reads_what_mxnet_load_reads_one_array_at_a_time(tmp_path, monkeypatch):
    mx.npx.reset_np()
    saved = {"table.0": mx.nd.array(np.arange(3000, dtype=np.float32).reshape(1000, 3)),
             "counts": mx.nd.array([5, 6, 7], dtype="int64"), "bias": mx.nd.array([0.25])}
    mx.nd.save(str(tmp_path / "a.states"), saved)
    loaded = mx.nd.load(str(tmp_path / "a.states"))  # the oracle
    monkeypatch.setattr(compat, "_LOAD_SLICE_BYTES", 100)
    with compat.open_arrays_file(str(tmp_path / "a.states")) as arrays:
        assert sorted(arrays.names()) == sorted(loaded) and "counts" in arrays
        for name, value in loaded.items():
            assert arrays[name].dtype == value.dtype
            np.testing.assert_array_equal(arrays[name].asnumpy(), value.asnumpy(), err_msg=name)
        targets = [mx.nd.zeros((1000, 3)), mx.nd.zeros((1000, 3))]
        arrays.read_into("table.0", targets)
        for target in targets:
            np.testing.assert_array_equal(target.asnumpy(), loaded["table.0"].asnumpy())
        with pytest.raises(ValueError, match="not float32"):
            arrays.read_into("table.0", [mx.nd.zeros((999, 3))])
    (tmp_path / "junk").write_bytes(b"not an MXNet file at all")
    assert compat.open_arrays_file(str(tmp_path / "junk")) is None


def test_every_compat_function_is_covered_here():
    """A new compat function needs a test in this file (and an entry in COVERED)."""
    public = {n for n, f in vars(compat).items() if inspect.isfunction(f) and not n.startswith("_")}
    assert public == set(COVERED)
    source = inspect.getsource(sys.modules[__name__])
    assert [n for n in COVERED if f"compat.{n}(" not in source] == []


def test_own_parameter_names_are_the_blocks_own_not_its_childrens():
    class WithOwn(nn.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.scale = self.params.get("scale", shape=(1,))
            self.dense = nn.Dense(2, in_units=3)

    block = WithOwn()
    assert compat.own_parameter_names(block) == ["scale"]
    assert compat.own_parameter_names(block.dense) == ["weight", "bias"]  # a child's own, not block's


def test_bound_arrays_take_the_backward_and_the_fresh_gradient_flag():
    """Flat Adam's rebinding (training/flat_adam.py): after
    ``bind_parameter_arrays`` the parameter's value and gradient are the given
    arrays, backward writes the gradient there, and Gluon's staleness flag
    (what ``Trainer._update`` checks, which flat Adam's Trainer overrides) follows."""
    mx.npx.set_np()
    net, trainer = tiny_trainer()
    assert compat.trainer_kvstore_choice(trainer) == ("device", False)
    param = net.fc.weight
    assert compat.parameter_ready(param) and compat.storage_types(param) == ("default", "default")
    assert not compat.parameter_ready(gluon.Parameter("later", shape=(0, 2)))
    data, grad = mx.nd.zeros((2, 4)), mx.nd.zeros((2, 4))
    data[0:1] = param.data().as_nd_ndarray()
    compat.bind_parameter_arrays(param, data[0:1].as_np_ndarray(), grad[1:2].as_np_ndarray())  # views
    assert param.data() is not None and not compat.has_fresh_gradient(param.data())
    x = mx.np.array([[0, 1], [2, 3]], dtype=np.int32)
    with autograd.record():
        loss = net(x).sum()
    loss.backward()
    assert compat.has_fresh_gradient(param.data())
    np.testing.assert_array_equal(grad[1].asnumpy(), param.grad().asnumpy().ravel())
    assert grad[1].abs().sum().asscalar() > 0 and grad[0].abs().sum().asscalar() == 0
    compat.mark_gradient_used(param.data())
    assert not compat.has_fresh_gradient(param.data())
    assert hasattr(gluon.Trainer, "_update")


def test_count_step_counts_as_adams_update_does():
    mx.npx.set_np()
    net, trainer = tiny_trainer()
    one_step(net, trainer)  # Gluon's own step: every parameter counted once
    assert compat.trainer_updates_here_on_one_device(trainer)  # one device: no kvstore
    optimizer = compat.trainer_optimizer(trainer)
    indices = sorted(compat.update_counts(optimizer)[0])
    lr, wd, t = compat.count_step(optimizer, indices, 0)
    assert (lr, wd, t) == (0.1, 0.0, 2) and set(compat.update_counts(optimizer)[0].values()) == {2}
    assert optimizer.num_update == 2


def test_parameter_arrays_on_one_cpu_are_the_parameters_own():
    net, _ = tiny_trainer()
    arrays = compat.parameter_arrays_on_one_cpu(net)
    assert sorted(arrays) == sorted(compat.params_by_structural_name(net))
    assert arrays["fc.weight"] is net.fc.weight.data()
    net.initialize(mx.init.Xavier(), ctx=[mx.cpu(0), mx.cpu(1)], force_reinit=True)
    assert compat.parameter_arrays_on_one_cpu(net) is None
