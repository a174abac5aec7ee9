import numpy as np
import pytest

from deepfm_gluon.distributed.sharding import per_worker_batch, shard_dataset, shard_indices
from deepfm_gluon.errors import DeepFMError


def test_shards_are_disjoint_equal_and_cover_all_but_the_remainder():
    shards = [shard_indices(103, rank, 4) for rank in range(4)]
    assert {len(s) for s in shards} == {25}
    together = np.concatenate(shards)
    assert len(set(together.tolist())) == 100
    assert together.max() < 100


def test_one_worker_gets_everything():
    assert shard_indices(7, 0, 1).tolist() == list(range(7))


def test_per_worker_batch_must_divide():
    assert per_worker_batch(2048, 4) == 512
    with pytest.raises(DeepFMError, match="multiple of 3"):
        per_worker_batch(2048, 3)


def test_bad_rank_and_too_few_rows():
    with pytest.raises(DeepFMError):
        shard_indices(10, 2, 2)
    with pytest.raises(DeepFMError):
        shard_indices(1, 0, 2)


def test_shard_dataset_keeps_rows_together():
    class Data:
        features = np.arange(20).reshape(10, 2)
        labels = np.arange(10, dtype=np.float32)

    shard = shard_dataset(Data, 1, 2)
    assert shard.labels.tolist() == [1, 3, 5, 7, 9]
    assert (shard.features[:, 0] // 2).tolist() == shard.labels.astype(int).tolist()
