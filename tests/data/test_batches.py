"""BatchIterator follows Gluon DataLoader's last_batch semantics."""
import numpy as onp
import pytest
from mxnet import gluon

from deepfm_gluon.data.batches import BatchIterator


def gluon_epoch_sizes(n, batch, last_batch, epochs):
    sampler = gluon.data.BatchSampler(gluon.data.SequentialSampler(n), batch, last_batch)
    return [[len(b) for b in sampler] for _ in range(epochs)]


@pytest.mark.parametrize("last_batch", ["keep", "discard", "rollover"])
def test_batch_sizes_match_gluon(last_batch):
    n, batch = 23, 5
    it = BatchIterator(onp.arange(n).reshape(-1, 1), onp.zeros(n), batch, shuffle=False, last_batch=last_batch)
    ours = []
    for _ in range(4):
        expected_len = len(it)
        sizes = [len(x) for x, _ in it]
        assert len(sizes) == expected_len
        ours.append(sizes)
    assert ours == gluon_epoch_sizes(n, batch, last_batch, 4)


def test_rollover_carries_leftovers_into_next_epoch():
    n, batch = 7, 3
    it = BatchIterator(onp.arange(n).reshape(-1, 1), onp.arange(n, dtype=float), batch, shuffle=True, seed=3)
    first = onp.concatenate([x.ravel() for x, _ in it])
    second = onp.concatenate([x.ravel() for x, _ in it])
    leftover = set(range(n)) - set(first.tolist())
    assert len(first) == 6 and leftover <= set(second[:1].tolist())


def test_state_round_trip_continues_the_same_sequence():
    it = BatchIterator(onp.arange(50).reshape(-1, 1), onp.zeros(50), 8, seed=1)
    list(it)
    state = it.state()
    expected = [x.ravel().tolist() for x, _ in it]
    other = BatchIterator(onp.arange(50).reshape(-1, 1), onp.zeros(50), 8, seed=99)
    other.set_state(state)
    assert [x.ravel().tolist() for x, _ in other] == expected
