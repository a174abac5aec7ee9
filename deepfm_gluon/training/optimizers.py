"""Every optimizer and Trainer the fitters train with, built in one place.

Four fitters step a model (``Fitter``, ``SparseFitter``, and the two
distributed workers); each asks ``make_trainer`` for its Trainer, and the
embedding tables' lazy optimizer comes from ``make_table_optimizer``. A
faster optimizer (e.g. a fused multi-tensor Adam) plugs in behind
``make_optimizer`` and reaches every fitter at once.

Parameter servers get their optimizer as data, never as a pickle:
``optimizer_spec`` describes one as JSON-ready (name and hyperparameters),
and ``optimizer_from_spec`` builds it back after checking the name and every
hyperparameter against an allow-list, so a command from the network can
choose among these optimizers and nothing else.
"""
import math

import mxnet as mx
from mxnet import gluon

from ..errors import DeepFMError
from .flat_adam import FlatAdam

OPTIMIZERS = ("adam", "sgd", "adagrad", "ftrl")   # --optimizer's choices; all servers may build
LAZY_OPTIMIZERS = ("sgd", "adam")                 # take lazy_update (row-sparse rows only)
# name -> (type, check): the hyperparameters a spec may carry
HYPERPARAMETERS = {
    "learning_rate": (float, lambda v: math.isfinite(v) and v > 0),
    "rescale_grad": (float, lambda v: math.isfinite(v) and v > 0),
    "lazy_update": (bool, lambda v: True),
}


class GlobalBatchTrainer(gluon.Trainer):
    """A Trainer whose ``step(b)`` normalizes by ``b * batch_scale``: on
    dist_sync the pulled gradient is the sum over all workers' batches
    (``batch_scale`` = workers); 1 is Gluon's own Trainer. ``flat``: Adam's
    step as one operator over flat buffers where ``FlatAdam`` applies (the
    parameters are rebound to them here, before any forward pass)."""

    def __init__(self, *args, batch_scale=1, flat=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch_scale = batch_scale
        self.flat = FlatAdam.for_trainer(self) if flat else None

    def step(self, batch_size, ignore_stale_grad=False):
        super().step(batch_size * self.batch_scale, ignore_stale_grad)

    def states_replaced(self):
        """Call after replacing the updaters' states (a checkpoint restore)."""
        if self.flat is not None:
            self.flat.states_replaced()

    def _update(self, ignore_stale_grad=False):
        # Gluon's per-step update (private in MXNet 1.9.1; tests/test_gluon_compat.py guards it)
        if not (self.flat and self.flat.step(ignore_stale_grad)):
            super()._update(ignore_stale_grad)


def make_optimizer(name, learning_rate, **hyperparameters):
    """The ``mx.optimizer.Optimizer`` called ``name`` (one of OPTIMIZERS)."""
    if name not in OPTIMIZERS:
        raise DeepFMError(f"optimizer {name!r}: expected one of {', '.join(OPTIMIZERS)}")
    return mx.optimizer.create(name, learning_rate=learning_rate, **hyperparameters)


def make_trainer(params, config, learning_rate, kvstore=None, update_on_kvstore=False, batch_scale=1,
                 optimizer=None, **hyperparameters):
    """The Trainer of every fitter: ``params`` (a ParameterDict or dict of
    Parameters) stepped by ``config.optimizer`` at ``learning_rate`` (or by
    ``optimizer``, an Optimizer object, e.g. the servers' routed one);
    ``kvstore``: None, 'device', 'local' or a KVStore; ``batch_scale``: see
    GlobalBatchTrainer; ``hyperparameters``: more options for the optimizer
    (e.g. ``wd``; each Parameter's ``wd_mult``/``lr_mult`` apply as in Gluon).
    ``config.fused_adam``: Adam's dense step as one operator (flat_adam.py)."""
    if optimizer is None:
        optimizer = make_optimizer(config.optimizer, learning_rate, **hyperparameters)
    return GlobalBatchTrainer(params, optimizer, kvstore=kvstore, update_on_kvstore=update_on_kvstore,
                              batch_scale=batch_scale, flat=config.fused_adam)


def make_table_optimizer(name, learning_rate, rescale_grad):
    """The embedding tables' optimizer for row_sparse gradients: lazy for SGD
    and Adam (AdaGrad and FTRL update only the given rows anyway, and take no flag)."""
    lazy = {"lazy_update": True} if name in LAZY_OPTIMIZERS else {}
    return make_optimizer(name, learning_rate, rescale_grad=rescale_grad, **lazy)


def optimizer_spec(optimizer):
    """``optimizer`` (one ``make_optimizer`` built) as JSON-ready data:
    {'name': ..., 'learning_rate': ..., 'rescale_grad': ...[, 'lazy_update': ...]}."""
    name = type(optimizer).__name__.lower()
    spec = {"name": name, "learning_rate": float(optimizer.learning_rate),
            "rescale_grad": float(optimizer.rescale_grad)}
    if name in LAZY_OPTIMIZERS:
        spec["lazy_update"] = bool(optimizer.lazy_update)
    return check_spec(spec)


def check_spec(spec):
    """``spec`` with its numbers as floats if every part is allowed; else
    DeepFMError naming the first part that is not."""
    if not isinstance(spec, dict) or spec.get("name") not in OPTIMIZERS:
        name = spec.get("name") if isinstance(spec, dict) else spec
        raise DeepFMError(f"optimizer {name!r}: expected one of {', '.join(OPTIMIZERS)}")
    checked = {"name": spec["name"]}
    for key, value in spec.items():
        if key == "name":
            continue
        if key not in HYPERPARAMETERS or (key == "lazy_update" and spec["name"] not in LAZY_OPTIMIZERS):
            raise DeepFMError(f"optimizer {spec['name']}: hyperparameter {key!r} is not allowed")
        kind, ok = HYPERPARAMETERS[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not kind or not ok(value):
            raise DeepFMError(f"optimizer {spec['name']}: {key} {value!r} is out of range")
        checked[key] = value
    if "learning_rate" not in checked:
        raise DeepFMError(f"optimizer {spec['name']}: no learning_rate")
    return checked


def optimizer_from_spec(spec):
    """The Optimizer ``spec`` (from ``optimizer_spec``, read from JSON) describes, after ``check_spec``."""
    spec = check_spec(spec)
    hyper = {k: v for k, v in spec.items() if k not in ("name", "learning_rate")}
    return make_optimizer(spec["name"], spec["learning_rate"], **hyper)
