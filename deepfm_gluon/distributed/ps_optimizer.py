"""The one optimizer a parameter server runs, routing by key.

A ps-lite server holds ONE updater: ``kv.set_optimizer`` replaces it (and
drops every state), and it runs on every key pushed. The embedding tables'
row_sparse keys, the Trainer's dense keys (0..P-1) and the metrics key share
the servers, so the optimizer they get must know which key is what:

- table keys -> ``table`` (lazy Adam / SGD / AdaGrad / FTRL on row_sparse
  gradients, rescaled by 1/global batch in dist_sync);
- other keys -> ``dense`` when the servers update the dense parameters
  (dist_async: Gluon forces update_on_kvstore), or None: store the merged sum
  as a server without updater does (dist_sync: every worker pulls it and
  updates locally, so the Trainer's states stay checkpointable).

It must be importable on every server (pickled by reference), and it keeps a
handle on each stored table so a server can write its shard.
"""
from mxnet import optimizer as mx_optimizer


class RoutedOptimizer(mx_optimizer.Optimizer):
    """``table``: an mx.optimizer for ``table_keys``; ``dense``: one for the
    other keys, or None (keep the merged sum)."""

    def __init__(self, table, dense=None, table_keys=(), **kwargs):
        super().__init__(**kwargs)
        self.table, self.dense = table, dense
        self.table_keys = set(int(k) for k in table_keys)
        self.aggregate_num = 0          # the Updater calls us one key at a time
        self.weights = {}               # key -> stored table (server side)
        self.rows_pushed = {}           # key -> rows received (server side): bytes per step

    def __getstate__(self):
        state = super().__getstate__()
        state["weights"] = {}
        return state

    def _inner(self, index):
        return self.table if int(index) in self.table_keys else self.dense

    def create_state_multi_precision(self, index, weight):
        inner = self._inner(index)
        return None if inner is None else inner.create_state_multi_precision(index, weight)

    def create_state(self, index, weight):
        return self.create_state_multi_precision(index, weight)

    def update_multi_precision(self, index, weight, grad, state):
        key = int(index)
        inner = self._inner(key)
        if key in self.table_keys:
            self.weights[key] = weight
            if grad.stype == "row_sparse":
                self.rows_pushed[key] = self.rows_pushed.get(key, 0) + int(grad.indices.shape[0])
        if inner is None:               # keep the merged sum, like a server without updater
            grad.copyto(weight)
            return
        if inner is self.dense:         # the Trainer sets rescale_grad on this object
            inner.rescale_grad = self.rescale_grad
        inner.update_multi_precision(key, weight, grad, state)

    def update(self, index, weight, grad, state):
        self.update_multi_precision(index, weight, grad, state)

    def set_learning_rate(self, lr):
        for inner in (self.table, self.dense):
            if inner is not None:
                inner.set_learning_rate(lr)

    @property
    def learning_rate(self):
        return self.table.learning_rate

