"""Every use of Gluon's private internals (MXNet 1.9.1), each behind a named function.

Gluon has no public API for what checkpoints and distributed workers need:
reading and restoring a Trainer's optimizer states and update counts, setting
up the kvstore before the first step, listing a Block's children and its
parameters by structural name, or saving and loading a 3 GB table without a
second copy of it (the last reads MXNet's .params layout). This module is the only place in the package
that touches those attributes; tests/test_gluon_compat.py fails on an MXNet
whose internals changed, naming the function to adapt.
"""
import os
import struct


# --- Trainer: optimizer states and update counts (checkpoints) --------------

def trainer_updaters(trainer):
    """The Trainer's updaters, one per device: each has ``states`` (dict index
    -> NDArray, tuple of NDArrays or None) and ``states_synced`` (dict)."""
    return trainer._updaters


def trainer_optimizer(trainer):
    """The ``mx.optimizer.Optimizer`` the Trainer steps with (``num_update``,
    ``rescale_grad``, ``lr``...)."""
    return trainer._optimizer


def trainer_params(trainer):
    """The Trainer's parameters in its index order (the indices of its
    updaters' states and update counts): sorted by prefixed name."""
    return trainer._params


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

def init_kvstore_now(trainer, rescale_grad, send_optimizer=None):
    """Create the Trainer's kvstore and push/pull the initial parameters now,
    instead of inside the first ``step()`` (after that step's backward).

    ``rescale_grad`` must be the optimizer's final gradient scale, since the
    optimizer is sent to the servers as it is now (``update_on_kvstore``).
    ``send_optimizer(optimizer)``: how it is sent, instead of MXNet's
    ``kv.set_optimizer``, which pickles it to the servers."""
    trainer._check_and_rescale_grad(rescale_grad)
    kv = trainer._kvstore_params["kvstore"]
    if send_optimizer is not None and not isinstance(kv, str):
        kv.set_optimizer = send_optimizer  # the instance attribute shadows the pickling method
    try:
        trainer._init_kvstore()
    finally:
        if send_optimizer is not None and not isinstance(kv, str):
            del kv.set_optimizer
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


def own_parameter_names(block):
    """Names of the Parameters ``block`` registered on itself (``self.params.get``
    in its constructor), not in a child block."""
    return list(block._reg_params)


def params_by_structural_name(block):
    """{structural name: Parameter}, the names ``save_parameters`` writes
    (e.g. 'embedding.weight'), independent of the Block's name prefix."""
    return block._collect_params_with_prefix()


# --- KVStore: parameter-server sparse training ----------------------------

def kvstore_barrier(kv):
    """Wait until every worker of ``kv``'s job reaches this point."""
    kv._barrier()


def send_server_command(kv, body):
    """Send ``body`` (str) to every server on command head 0 (see distributed/ps_server.py)."""
    kv._send_command_to_servers(0, body)


# --- Parameters: adopting an array without Gluon's copies (large tables) ----

def adopt_parameter_data(param, data):
    """Make ``data`` (an array on one device, of ``param``'s shape) the value
    of ``param`` as ``initialize`` would, but without its two full-size
    temporaries (a zeros array on the CPU, then a copy per device): for a
    39M-row table each is 3 GB. The gradient buffer follows ``grad_req``
    (none for 'null')."""
    ctx = data.ctx
    param._deferred_init = ()
    param._ctx_list = [ctx]
    param._ctx_map = [[], []]
    devices = param._ctx_map[ctx.device_typeid & 1]
    devices.extend([None] * (ctx.device_id + 1))
    devices[ctx.device_id] = 0
    param._data = [data]
    param._init_grad()


def bind_parameter_arrays(param, data, grad):
    """Make ``data`` and ``grad`` (arrays of ``param``'s shape and type on its
    one device, e.g. views into flat buffers) ``param``'s value and gradient
    buffer in place of its own, and have autograd's backward write into
    ``grad``. The caller copies the values in first."""
    from mxnet import autograd  # MXNet only here; this module stays import-light (start-up)
    fresh = param._data[0]._fresh_grad  # whether this step's backward wrote the gradient
    param._data = [data]
    param._grad = [grad]
    autograd.mark_variables(param._data, param._grad, param.grad_req)
    data._fresh_grad = fresh


def parameter_ready(param):
    """Whether ``param`` has its arrays (initialized, its shape known: not deferred)."""
    return param._data is not None


def trainer_kvstore_choice(trainer):
    """The (kvstore, update_on_kvstore) the Trainer was created with, before it makes its kvstore."""
    return trainer._kvstore_params["kvstore"], trainer._kvstore_params["update_on_kvstore"]


def storage_types(param):
    """(value's, gradient's) storage type of ``param``: 'default' or 'row_sparse'."""
    return param._stype, param._grad_stype


def has_fresh_gradient(array):
    """Whether a backward wrote ``array``'s (a parameter's value's) gradient since its last update."""
    return bool(array._fresh_grad)


def mark_gradient_used(array):
    """What Gluon's Trainer does after updating ``array`` (a parameter's value):
    its gradient is stale until the next backward."""
    array._fresh_grad = False


def trainer_updates_here_on_one_device(trainer):
    """True when the Trainer's ``step`` updates in this process, on one device,
    with no kvstore and no loss scaler: then its updater's states are the only
    copy of the optimizer's state, and a parameter's arrays are its own."""
    return (trainer._kvstore is None and not trainer._update_on_kvstore and len(trainer._contexts) == 1
            and len(trainer._updaters) == 1 and getattr(trainer, "_amp_loss_scaler", None) is None)


def count_step(optimizer, indices, device_id):
    """What ``Optimizer.update`` does first, for every one of ``indices`` at
    once: count the step (``update_counts``) on device ``device_id``. Returns
    (learning rate, weight decay, step count) of ``indices[0]``."""
    optimizer._set_current_context(device_id)
    optimizer._update_count(list(indices))
    first = indices[0]
    return optimizer._get_lr(first), optimizer._get_wd(first), optimizer._index_update_count[first]


def save_parameters_without_copies(block, filename):
    """Write the file ``block.save_parameters(filename)`` writes, without its
    copy of every parameter (``Parameter._reduce`` copies each array to the
    CPU first: a 3 GB table would be held twice). Parameters on one CPU
    device are written as they are; anything else takes Gluon's own path."""
    import mxnet as mx  # MXNet only for saving; this module stays import-light (start-up)
    arrays = parameter_arrays_on_one_cpu(block)
    if arrays is None:
        return block.save_parameters(filename)
    save = mx.npx.save if mx.util.is_np_array() else mx.nd.save
    save(filename, arrays)
    return filename


def parameter_arrays_on_one_cpu(block):
    """{structural name: the array} of ``block``'s parameters, which is what
    ``save_parameters`` writes when each lives on one CPU device; None
    otherwise (Gluon averages copies on several devices: use its own path)."""
    arrays = {}
    for key, param in params_by_structural_name(block).items():
        data = param.list_data()
        if len(data) != 1 or data[0].ctx.device_type != "cpu":
            return None
        arrays[key] = data[0]
    return arrays


# MXNet's .params layout (src/ndarray/ndarray.cc, NDArray::Save): a list header,
# then per array: magic, storage type, shape, context, type flag, raw bytes; then the names.
_LIST_MAGIC = 0x112
_ARRAY_MAGICS = (0xF993FAC9, 0xF993FACA)  # NDARRAY_V2_MAGIC, V3_MAGIC (numpy shapes)
_TYPE_FLAGS = {0: "float32", 1: "float64", 2: "float16", 3: "uint8", 4: "int32", 5: "int8", 6: "int64"}
_LOAD_SLICE_BYTES = 8 << 20  # a slice read at a time; MXNet holds ~3 copies of one while it lands


def _params_file_index(f):
    """{name: (dtype, shape, offset of the raw bytes)} of an open .params file,
    or None where its layout is not the dense one this reader knows."""
    import numpy as np  # numpy only for loading; this module stays import-light (start-up)

    size = os.fstat(f.fileno()).st_size

    def read(fmt):
        want = struct.calcsize(fmt)
        chunk = f.read(want)
        if len(chunk) != want:
            raise EOFError
        return struct.unpack(fmt, chunk)

    try:
        magic, _, count = read("<QQQ")
        if magic != _LIST_MAGIC:
            return None
        arrays = []
        for _ in range(count):
            magic, stype = read("<Ii")
            ndim, = read("<i")
            if magic not in _ARRAY_MAGICS or stype != 0 or not 0 <= ndim <= 32:
                return None
            shape = read(f"<{ndim}q")
            _, _, flag = read("<iii")  # device type, device id, type flag
            if flag not in _TYPE_FLAGS or any(d < 0 for d in shape):
                return None
            dtype = np.dtype(_TYPE_FLAGS[flag])
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if f.tell() + nbytes > size:
                return None
            arrays.append((dtype, shape, f.tell()))
            f.seek(nbytes, 1)
        names = []
        for _ in range(read("<Q")[0]):
            length, = read("<Q")
            if f.tell() + length > size:
                return None
            names.append(f.read(length).decode())
    except (EOFError, UnicodeDecodeError, OverflowError, ValueError, OSError, MemoryError):
        return None
    if len(names) != len(arrays) or len(set(names)) != len(names):
        return None
    return dict(zip(names, arrays))


class ArraysFile:
    """The arrays of a file ``mx.nd.save`` / ``npx.save`` / ``save_parameters``
    wrote, read one at a time (``mx.nd.load`` reads them all at once: for a
    checkpoint of a 39M-row table, its weights and Adam's moments, 10 GB).
    ``file[name]``: that array, as a legacy NDArray on the CPU;
    ``read_into(name, targets)``: its bytes a slice at a time into existing
    arrays of its shape and type (every device's copy). Use as a context
    manager; ``open_arrays_file`` gives None for a layout it does not know."""

    def __init__(self, f, index):
        self.file, self.index = f, index

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.file.close()

    def __contains__(self, name):
        return name in self.index

    def names(self):
        return list(self.index)

    def shape(self, name):
        return tuple(self.index[name][1])

    def dtype(self, name):
        return self.index[name][0]

    def _slices(self, name):
        """(index, values) pieces of array ``name``: a slice of rows at a time."""
        import numpy as np  # numpy only for loading; this module stays import-light (start-up)
        dtype, shape, offset = self.index[name]
        rows = shape[0] if shape else 1
        row_bytes = max(1, int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize)
        step = max(1, _LOAD_SLICE_BYTES // row_bytes)
        self.file.seek(offset)
        for lo in range(0, rows, step):
            hi = min(rows, lo + step)
            part = np.empty((hi - lo,) + tuple(shape[1:]), dtype=dtype)
            if part.nbytes and self.file.readinto(part.reshape(-1).view(np.uint8)) != part.nbytes:
                raise ValueError(f"{self.file.name}: {name} is cut short")
            yield (slice(lo, hi), part) if shape else ((), part.reshape(()))

    def __getitem__(self, name):
        import mxnet as mx  # MXNet only for loading; this module stays import-light (start-up)
        import numpy as np  # numpy only for loading (start-up)
        out = np.empty(self.shape(name), dtype=self.dtype(name))
        self.read_into(name, [out])
        return mx.nd.array(out, dtype=out.dtype)

    def read_into(self, name, targets):
        import numpy as np  # numpy only for loading; this module stays import-light (start-up)
        dtype, shape, _ = self.index[name]
        for target in targets:
            if tuple(target.shape) != tuple(shape) or np.dtype(target.dtype) != dtype:
                raise ValueError(f"{self.file.name}: {name} is {dtype.name} {tuple(shape)}, "
                                 f"not {np.dtype(target.dtype).name} {tuple(target.shape)}")
        for where, part in self._slices(name):
            for target in targets:
                target[where] = part
                # MXNet copies asynchronously: without the wait the loop queues every
                # slice's temporary before the first copy runs (up to a second table)
                getattr(target, "wait_to_read", lambda: None)()


def open_arrays_file(filename):
    """An ArraysFile over ``filename``, or None where its layout is not the
    dense one ArraysFile reads (the caller then uses MXNet's own load)."""
    try:
        f = open(filename, "rb")
    except OSError:  # missing, a folder, unreadable: MXNet's load says so in its words
        return None
    try:
        index = _params_file_index(f)
    except BaseException:
        f.close()
        raise
    if index is None:
        f.close()
        return None
    return ArraysFile(f, index)


def load_parameters_in_place(block, filename):
    """``block.load_parameters(filename, ctx=None)`` for a block whose
    parameters are all initialized, without Gluon's copy of the whole file
    (``nd.load`` holds every array before ``set_data`` copies it: a 3 GB table
    twice). The bytes are read a slice at a time straight into each
    parameter's arrays, on every device. Files or blocks this reader does not
    take (another layout, names or shapes that differ, deferred parameters)
    go through Gluon's own load, with its errors."""
    import numpy as np  # numpy only for loading; this module stays import-light (start-up)
    params = params_by_structural_name(block)
    arrays = open_arrays_file(filename)
    if arrays is None:
        return block.load_parameters(filename, ctx=None)
    with arrays:
        ready = set(arrays.names()) == set(params) and all(
            p._data is not None and tuple(p.shape) == arrays.shape(k) and np.dtype(p.dtype) == arrays.dtype(k)
            for k, p in params.items())
        if not ready:
            return block.load_parameters(filename, ctx=None)
        try:
            for key, param in params.items():
                arrays.read_into(key, param.list_data())
        except (ValueError, OSError):  # cut short, unreadable: Gluon's load says so in its words
            return block.load_parameters(filename, ctx=None)
    return filename


def has_cached_graph(block):
    """Whether a hybridized ``block`` has built its cached graph (it does so on
    the first forward call after ``hybridize()``)."""
    return getattr(block, "_cached_op", None) is not None
