"""Every use of Gluon's private internals (MXNet 1.9.1), each behind a named function.

Gluon has no public API for what checkpoints and distributed workers need:
reading and restoring a Trainer's optimizer states and update counts, setting
up the kvstore before the first step, or listing a Block's children and its
parameters by structural name. This module is the only place in the package
that touches those attributes; tests/test_gluon_compat.py fails on an MXNet
whose internals changed, naming the function to adapt.
"""


# --- Trainer: optimizer states and update counts (checkpoints) --------------

def trainer_updaters(trainer):
    """The Trainer's updaters, one per device: each has ``states`` (dict index
    -> NDArray, tuple of NDArrays or None) and ``states_synced`` (dict)."""
    return trainer._updaters


def trainer_optimizer(trainer):
    """The ``mx.optimizer.Optimizer`` the Trainer steps with (``num_update``,
    ``rescale_grad``, ``lr``...)."""
    return trainer._optimizer


def update_counts(optimizer):
    """The optimizer's per-device step counts: {device: {param index: count}}.
    Adam's bias correction reads them, so a resumed run must restore them."""
    return optimizer._all_index_update_counts


def set_update_counts(optimizer, counts):
    """Restore ``update_counts``: ``counts`` is {device: {param index: count}}
    with int keys; device 0's dict becomes the current one, as after ``__init__``."""
    optimizer._all_index_update_counts = counts
    optimizer._index_update_count = counts.setdefault(0, {})


# --- Trainer: kvstore set-up (distributed workers) ------------------------

def init_kvstore_now(trainer, rescale_grad):
    """Create the Trainer's kvstore and push/pull the initial parameters now,
    instead of inside the first ``step()`` (after that step's backward).

    ``rescale_grad`` must be the optimizer's final gradient scale, since the
    optimizer is sent to the servers as it is now (``update_on_kvstore``)."""
    trainer._check_and_rescale_grad(rescale_grad)
    trainer._init_kvstore()
    trainer._init_params()


def trainer_scale(trainer):
    """The ``rescale_grad`` the Trainer was created with; ``step(b)`` divides it by ``b``."""
    return trainer._scale


def kvstore_ready(trainer):
    """True once the Trainer's kvstore exists and holds every parameter."""
    return bool(trainer._kv_initialized) and not trainer._params_to_init


def updates_on_kvstore(trainer):
    """Whether the servers run the optimizer (None before the kvstore is set up)."""
    return trainer._update_on_kvstore


# --- Block structure -------------------------------------------------------

def child_block_names(block):
    """Names of ``block``'s direct child Blocks, in registration order."""
    return list(block._children)


def params_by_structural_name(block):
    """{structural name: Parameter}, the names ``save_parameters`` writes
    (e.g. 'embedding.weight'), independent of the Block's name prefix."""
    return block._collect_params_with_prefix()


def has_cached_graph(block):
    """Whether a hybridized ``block`` has built its cached graph (it does so on
    the first forward call after ``hybridize()``)."""
    return getattr(block, "_cached_op", None) is not None
