"""Which training rows, and how many per step, each worker of a job takes.

dist_sync completes a step only when every worker has pushed its gradients,
so every worker must run the same number of steps: shards are equal in size
(up to ``num_workers - 1`` trailing rows are left out) and the global batch
must divide evenly among the workers.
"""
import dataclasses

import numpy as np

from ..errors import DeepFMError


def per_worker_batch(global_batch, num_workers):
    """The per-worker batch: ``num_workers * per_worker == global_batch``."""
    if num_workers < 1:
        raise DeepFMError(f"need at least one worker, not {num_workers}")
    if global_batch % num_workers:
        raise DeepFMError(f"--batch-size {global_batch} does not split evenly over {num_workers} "
                          f"workers; use a multiple of {num_workers}")
    return global_batch // num_workers


def shard_indices(num_rows, rank, num_workers):
    """Rows ``rank, rank + W, rank + 2W, ...``, ``num_rows // W`` of them.

    Strided rather than contiguous, so a file sorted by time or label still
    gives every worker a like sample.
    """
    if not 0 <= rank < num_workers:
        raise DeepFMError(f"worker rank {rank} is not in 0..{num_workers - 1}")
    per_worker = num_rows // num_workers
    if per_worker == 0:
        raise DeepFMError(f"{num_rows} training rows cannot be shared by {num_workers} workers")
    return np.arange(rank, per_worker * num_workers, num_workers)


@dataclasses.dataclass
class Shard:
    """The rows of a data set one worker trains on (``.features``, ``.labels``)."""

    features: np.ndarray
    labels: np.ndarray
    rank: int
    num_workers: int

    def __len__(self):
        return len(self.labels)


def shard_dataset(dataset, rank, num_workers):
    """This worker's rows of ``dataset`` (anything with .features/.labels).

    Every worker reads the whole training file, so the vocabulary (built from
    value counts over all rows) is the same everywhere; only the rows it
    trains on are its own.
    """
    idx = shard_indices(len(dataset.labels), rank, num_workers)
    return Shard(dataset.features[idx], dataset.labels[idx], rank, num_workers)
