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

Servers get it as data, never as a pickle: ``optimizer_command`` describes
it as JSON ("DFM OPTIMIZER {...}": each inner optimizer's name and
hyperparameters, the table keys), and ``optimizer_from_command`` builds it
on the server after checking every part (training/optimizers.py's allow-list).
It keeps a handle on each stored table so a server can write its shard.
"""
import json

from mxnet import optimizer as mx_optimizer

from .. import gluon_compat
from ..errors import DeepFMError
from ..training.optimizers import optimizer_from_spec, optimizer_spec

COMMAND = "OPTIMIZER"
MAX_TABLE_KEY = 1 << 24  # table keys are (1 << 20) + t, below the metrics key


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
        return (self.table or self.dense).learning_rate


def optimizer_command(table, dense=None, table_keys=(), rescale_grad=None):
    """The server command body that sets a RoutedOptimizer(table, dense,
    table_keys): JSON, nothing pickled. ``table``/``dense``: Optimizers from
    training/optimizers.py, or None; ``rescale_grad``: the dense optimizer's
    scale when it differs from its own (the Trainer sets it on the routed one)."""
    dense_spec = None if dense is None else optimizer_spec(dense)
    if dense_spec is not None and rescale_grad is not None:
        dense_spec["rescale_grad"] = float(rescale_grad)
    body = {"table": None if table is None else optimizer_spec(table), "dense": dense_spec,
            "table_keys": sorted(int(k) for k in table_keys)}
    return f"DFM {COMMAND} " + json.dumps(body)


def optimizer_from_command(text):
    """The RoutedOptimizer an ``optimizer_command`` body (after "DFM OPTIMIZER ")
    describes; DeepFMError naming the first part that is not allowed."""
    try:
        body = json.loads(text)
    except ValueError as err:
        raise DeepFMError(f"optimizer command: not JSON ({err})") from None
    if not isinstance(body, dict) or set(body) != {"table", "dense", "table_keys"}:
        raise DeepFMError("optimizer command: expected exactly the keys table, dense, table_keys")
    keys = body["table_keys"]
    if not isinstance(keys, list) or not all(type(k) is int and 0 <= k < MAX_TABLE_KEY for k in keys):
        raise DeepFMError(f"optimizer command: table_keys must be integers 0..{MAX_TABLE_KEY - 1}")
    table, dense = (None if body[part] is None else optimizer_from_spec(body[part]) for part in ("table", "dense"))
    if table is None and dense is None:
        raise DeepFMError("optimizer command: names no optimizer")
    routed = RoutedOptimizer(table, dense, keys)
    if dense is not None:
        routed.rescale_grad = dense.rescale_grad
    return routed



def send_optimizer(kv, optimizer):
    """Set ``optimizer`` (a RoutedOptimizer, or one optimizer from
    training/optimizers.py for every key) on every server of ``kv``'s job, as JSON."""
    if isinstance(optimizer, RoutedOptimizer):
        body = optimizer_command(optimizer.table, optimizer.dense, optimizer.table_keys, optimizer.rescale_grad)
    else:
        body = optimizer_command(None, optimizer)
    gluon_compat.send_server_command(kv, body)
