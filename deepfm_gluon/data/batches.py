"""Mini-batches sliced from encoded arrays: what Gluon's DataLoader does for
the book, without a Python call per sample."""
import numpy as np


class BatchIterator:
    """Shuffled mini-batches over (features, labels) with DataLoader's
    ``last_batch`` semantics: 'keep', 'discard', or 'rollover' (the book's:
    samples left at the end of an epoch open the next one).

    Iterating yields numpy (X, y) pairs; y has shape (batch, 1).
    """

    def __init__(self, features, labels, batch_size, shuffle=True, last_batch="rollover",
                 seed=0):
        if last_batch not in ("keep", "discard", "rollover"):
            raise ValueError(f"last_batch must be keep, discard or rollover, not {last_batch!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        self.features, self.labels = features, labels.reshape(-1, 1)
        self.batch_size, self.shuffle, self.last_batch = int(batch_size), shuffle, last_batch
        self.rng = np.random.default_rng(seed)
        self._carry = np.empty(0, dtype=np.int64)

    def __len__(self):
        n = len(self._carry) + len(self.features)
        if self.last_batch == "keep":
            return -(-n // self.batch_size)
        return n // self.batch_size

    def state(self):
        """Everything needed to continue the same sequence of batches later."""
        return {"rng": self.rng.bit_generator.state, "carry": self._carry.tolist()}

    def set_state(self, state):
        self.rng.bit_generator.state = state["rng"]
        self._carry = np.asarray(state["carry"], dtype=np.int64)

    def epoch_indices(self):
        """Index array per batch for one epoch; advances shuffle and rollover state."""
        order = np.arange(len(self.features))
        if self.shuffle:
            order = self.rng.permutation(order)
        order = np.concatenate([self._carry, order])
        self._carry = np.empty(0, dtype=np.int64)
        full = len(order) // self.batch_size * self.batch_size
        batches = [order[i:i + self.batch_size] for i in range(0, full, self.batch_size)]
        if full < len(order):
            if self.last_batch == "keep":
                batches.append(order[full:])
            elif self.last_batch == "rollover":
                self._carry = order[full:]
        return batches

    def __iter__(self):
        for idx in self.epoch_indices():
            yield self.features[idx], self.labels[idx]


def sequential_batches(features, batch_size):
    """Batches in order, the last one short: for evaluation and prediction."""
    for i in range(0, len(features), batch_size):
        yield features[i:i + batch_size]
