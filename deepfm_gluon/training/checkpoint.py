"""Checkpoints that survive a crash and resume bit-exactly on CPU.

Each epoch writes a complete checkpoint into a fresh folder, then points
``latest.json`` at it with an atomic rename: a crash mid-write leaves the
previous checkpoint as the latest. What is saved: parameters (Gluon format),
optimizer states (MXNet's array format) and their update counts (JSON), the
same for a sparse run's table optimizer (``SparseTables``: lazy Adam's rows
that were never touched stay zero, so resuming is exact), the batch order (the shuffling generator and rollover carry), the history so far
and the run's arguments. Nothing is pickled, so loading runs no code.

MXNet 1.x cannot read back its random state, so the loop reseeds MXNet at
the start of every epoch from (seed, epoch); a resumed epoch therefore
draws the same dropout masks as the uninterrupted one.

``CheckpointWriter`` writes in a background thread, so training goes on
while a checkpoint is serialized: it snapshots the arrays first (engine
copies, so the next steps cannot change what is written), and the thread
writes and renames as ``save_checkpoint`` does. Runs whose snapshot would
be large (a Criteo-size table) write in the foreground, as before.
"""
import json
import os
import shutil
import sys
import tempfile
import threading

import mxnet as mx
import numpy as np

from .. import gluon_compat
from ..atomic import atomic_write_json, current_umask, full_disk_error
from ..errors import DeepFMError, useful_line
from .history import History

FORMAT_VERSION = 1
LATEST = "latest.json"
KEEP = 2


def _state_parts(state):
    """An optimizer state's arrays: a tuple's, a single array, or none."""
    return list(state) if isinstance(state, (tuple, list)) else ([] if state is None else [state])


def _encode_states(states, prefix, arrays, copy=False):
    """Put ``states`` ({index: NDArray, tuple or None}) into ``arrays`` under
    ``prefix`` (``copy``: always a copy, never the state itself); returns their layout (JSON)."""
    entries = {}
    for idx, state in states.items():
        parts = _state_parts(state)
        for j, part in enumerate(parts):
            arrays[f"{prefix}.{idx}.{j}"] = part.copyto(mx.cpu()) if copy else part.as_in_context(mx.cpu())
        entries[str(idx)] = {"kind": "tuple" if isinstance(state, (tuple, list)) else
                             ("none" if state is None else "array"), "parts": len(parts)}
    return entries


def _decode_state(arrays, prefix, idx, entry, ctx):
    parts = [arrays[f"{prefix}.{idx}.{j}"].as_in_context(ctx) for j in range(entry["parts"])]
    return tuple(parts) if entry["kind"] == "tuple" else parts[0] if entry["kind"] == "array" else None


def _counts_payload(optimizer):
    counts = {str(dev): {str(k): int(v) for k, v in c.items()}
              for dev, c in gluon_compat.update_counts(optimizer).items()}
    return {"num_update": int(optimizer.num_update), "counts": counts}


def _restore_counts(optimizer, meta, here=lambda i: i):
    optimizer.num_update = meta["num_update"]
    gluon_compat.set_update_counts(optimizer, {int(d): {here(int(k)): v for k, v in c.items()}
                                               for d, c in meta["counts"].items()})


def trainer_param_names(fitter):
    """Structural names ('mlp.0.weight') of the Trainer's parameters, in its
    index order (None unless each has one name of its own). Gluon's Trainer
    orders parameters by their prefixed names ('deepfm3_dense10_weight'),
    which depend on how many blocks the process built before, so states are
    matched by these names on resume."""
    names = {}
    for block in fitter.trained_blocks():  # a sparse run trains its twin's dense blocks
        names.update({id(p): k for k, p in gluon_compat.params_by_structural_name(block).items()})
    found = [names.get(id(p)) for p in gluon_compat.trainer_params(fitter.trainer)]
    if None in found or len(set(found)) != len(found):  # not one name each: match by index
        return None
    return found


def _updater_payload(fitter, copy=False):
    arrays = {}
    layout = [_encode_states(updater.states, f"u{u}", arrays, copy)
              for u, updater in enumerate(gluon_compat.trainer_updaters(fitter.trainer))]
    return arrays, {"updaters": layout, "param_names": trainer_param_names(fitter),
                    **_counts_payload(gluon_compat.trainer_optimizer(fitter.trainer))}


def _index_map(fitter, meta):
    """{saved index: this Trainer's index} of each parameter (by structural
    name; checkpoints without names: the same index)."""
    saved, current = meta.get("param_names"), trainer_param_names(fitter)
    if saved is None or current is None:
        return None
    mine = {name: i for i, name in enumerate(current)}
    if sorted(saved, key=str) != sorted(mine, key=str):
        raise ValueError(f"its parameters {sorted(saved, key=str)} are not this model's")
    return {i: mine[name] for i, name in enumerate(saved)}


def _restore_updaters(fitter, arrays, meta):
    remap = _index_map(fitter, meta)
    here = (lambda i: i) if remap is None else remap.__getitem__
    trainer, contexts = fitter.trainer, fitter.contexts
    for u, (updater, entries) in enumerate(zip(gluon_compat.trainer_updaters(trainer), meta["updaters"])):
        ctx = contexts[min(u, len(contexts) - 1)]
        for idx_text, entry in entries.items():
            updater.states[here(int(idx_text))] = _decode_state(arrays, f"u{u}", idx_text, entry, ctx)
            updater.states_synced[here(int(idx_text))] = True
    trainer.states_replaced()  # optimizers.GlobalBatchTrainer: flat Adam copies them in at its next step
    _restore_counts(gluon_compat.trainer_optimizer(trainer), meta, here)


def _tables_payload(tables, arrays, copy=False):
    """A sparse run's table optimizer (training.sparse.SparseTables): its
    states (lazy Adam's moments) and update counts, into ``arrays``."""
    if tables is None:
        return None
    layout = _encode_states(dict(enumerate(tables.states)), "tables", arrays, copy)
    return {"states": layout, **_counts_payload(tables.opt)}


def _restore_tables(tables, arrays, meta, path):
    if (tables is None) != (meta is None):
        raise DeepFMError(f"{path}: checkpoint of a {'dense' if meta is None else 'sparse'} run; "
                          f"resume it {'without' if meta is None else 'with'} --sparse")
    if tables is None:
        return
    for idx_text, entry in meta["states"].items():
        current = tables.states[int(idx_text)]
        if current is None:  # e.g. plain SGD: nothing to copy into
            continue
        # into the existing arrays, a slice at a time where the file allows: a table's
        # moments are twice its size, and loading them whole would hold them twice
        for j, dst in enumerate(current if isinstance(current, (tuple, list)) else [current]):
            name = f"tables.{idx_text}.{j}"
            if isinstance(arrays, gluon_compat.ArraysFile):
                arrays.read_into(name, [dst])
            else:
                dst[:] = arrays[name].as_in_context(dst.context)
    _restore_counts(tables.opt, meta)


def save_checkpoint(folder, fitter, batches, run_args=None):
    """Write ``fitter``'s state after its last finished epoch into a new
    folder under ``folder``, with ``batches`` (the BatchIterator) state and
    ``run_args`` (a JSON-ready dict); returns the new folder's path."""
    return _write(folder, _Snapshot(fitter, batches, run_args, copy=False))


class _Snapshot:
    """What a checkpoint holds, taken now: the parameters (``params``: a
    Block to save, or {name: array}), the optimizer arrays and state.json's text.
    ``copy``: the arrays are engine copies that later steps cannot change."""

    def __init__(self, fitter, batches, run_args, copy, params=None):
        self.epoch = len(fitter.history.epochs)
        self.params = fitter.net
        if copy:  # ``params``: the net's {name: array} when the caller has them already
            arrays = params if params is not None else gluon_compat.parameter_arrays_on_one_cpu(fitter.net)
            self.params = {k: a.copy() for k, a in arrays.items()}
        self.np_mode = mx.util.is_np_array()
        self.arrays, optimizer_meta = _updater_payload(fitter, copy)
        optimizer_meta["tables"] = _tables_payload(fitter.table_states(), self.arrays, copy)
        self.state = json.dumps({"format_version": FORMAT_VERSION, "epoch": self.epoch, "kind": fitter.kind,
                                 "history": fitter.history.to_dict(), "batches": batches.state(),
                                 "optimizer": optimizer_meta, "run_args": run_args or {}})

    def save_params(self, path):
        if not isinstance(self.params, dict):
            return gluon_compat.save_parameters_without_copies(self.params, path)
        return (mx.npx.save if self.np_mode else mx.nd.save)(path, self.params)


def _write(folder, snapshot):
    """Write ``snapshot`` as checkpoint folder ``epoch-NNNN`` under ``folder``
    (staged, then renamed; then latest.json); returns its path."""
    os.makedirs(folder, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".checkpoint-", dir=folder)
    try:
        os.chmod(staging, 0o777 & ~current_umask())  # mkdtemp makes 0700: keep normal permissions
        snapshot.save_params(os.path.join(staging, "model.params"))
        mx.nd.save(os.path.join(staging, "optimizer.states"), snapshot.arrays)
        with open(os.path.join(staging, "state.json"), "w") as f:
            f.write(snapshot.state)
        final = os.path.join(folder, f"epoch-{snapshot.epoch:04d}")
        if os.path.exists(final):
            shutil.rmtree(final)
        os.replace(staging, final)
    except BaseException as err:
        full = full_disk_error(folder, staging) if isinstance(err, Exception) else None
        shutil.rmtree(staging, ignore_errors=True)
        if full is not None and not isinstance(err, OSError):
            raise full from None
        raise
    atomic_write_json(os.path.join(folder, LATEST), {"epoch": snapshot.epoch, "path": os.path.basename(final)})
    _prune(folder, keep=KEEP)
    return final


# Largest snapshot (parameters and optimizer states) written in the background:
# beyond it, a second copy costs more memory than the wait is worth.
BACKGROUND_BYTES = 1 << 30


class CheckpointWriter:
    """``save_checkpoint`` in a background thread: ``save`` snapshots the
    fitter (the previous write finishes first) and returns while a thread
    writes it; ``wait()`` joins the last write and raises its error, if any.
    ``background=False``, several devices or a snapshot over
    ``BACKGROUND_BYTES``: written in the foreground."""

    def __init__(self, folder, background=True):
        self.folder, self.background = folder, background
        self._thread, self._error = None, None

    def save(self, fitter, batches, run_args=None):
        self.wait()
        params = _snapshot_params(fitter) if self.background else None
        if params is None:
            save_checkpoint(self.folder, fitter, batches, run_args)
            return
        snapshot = _Snapshot(fitter, batches, run_args, copy=True, params=params)
        self._thread = threading.Thread(target=self._run, args=(snapshot,), name="checkpoint-writer", daemon=True)
        self._thread.start()

    def _run(self, snapshot):
        try:
            if snapshot.np_mode:
                mx.npx.set_np()  # numpy semantics are per thread: save the arrays as the run has them
            _write(self.folder, snapshot)
        except BaseException as err:  # raised in the training thread by wait()
            self._error = err

    def wait(self):
        """Block until the last checkpoint is written; raise what its write raised."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        error, self._error = self._error, None
        if error is not None:
            raise error


def _snapshot_params(fitter):
    """``fitter``'s parameters as {name: array} when they live on one CPU
    device and, with its optimizer states, take at most ``BACKGROUND_BYTES``
    (a background snapshot copies them); else None."""
    params = gluon_compat.parameter_arrays_on_one_cpu(fitter.net)
    if params is None:
        return None
    states = [s for u in gluon_compat.trainer_updaters(fitter.trainer) for s in u.states.values()]
    tables = fitter.table_states()
    states += list(tables.states) if tables is not None else []
    arrays = list(params.values()) + [part for s in states for part in _state_parts(s)]
    return params if sum(a.size * np.dtype(a.dtype).itemsize for a in arrays) <= BACKGROUND_BYTES else None


def _prune(folder, keep):
    done = sorted(d for d in os.listdir(folder) if d.startswith("epoch-"))
    for old in done[:-keep]:
        shutil.rmtree(os.path.join(folder, old), ignore_errors=True)
    for stale in os.listdir(folder):
        if stale.startswith(".checkpoint-"):
            shutil.rmtree(os.path.join(folder, stale), ignore_errors=True)
    remove_stale_pointers(folder)


def remove_stale_pointers(folder):
    """Delete ``.latest.json.*`` temporaries a crash mid-rename left behind."""
    for stale in os.listdir(folder):
        if stale.startswith("." + LATEST + "."):
            try:
                os.remove(os.path.join(folder, stale))
            except OSError:
                pass


STATE_KEYS = ("format_version", "epoch", "kind", "history", "batches", "optimizer")


def read_state(path):
    """state.json of the checkpoint folder ``path``, checked for its keys."""
    try:
        with open(os.path.join(path, "state.json")) as f:
            state = json.load(f)
    except (OSError, ValueError, RecursionError) as err:
        raise DeepFMError(f"{path}/state.json: unreadable ({useful_line(err) or type(err).__name__})") from None
    missing = [key for key in STATE_KEYS if not isinstance(state, dict) or key not in state]
    if missing:
        raise DeepFMError(f"{path}/state.json: damaged checkpoint, missing {', '.join(missing)}")
    return state


def read_pointer(folder):
    """The checkpoint folder latest.json names; None if it is missing or unreadable."""
    try:
        with open(os.path.join(folder, LATEST)) as f:
            latest = json.load(f)
        return os.path.join(folder, os.path.basename(str(latest["path"])))
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def _check_version(path, state):
    if state.get("format_version") != FORMAT_VERSION:
        raise DeepFMError(f"{path}: checkpoint format {state.get('format_version')!r}, "
                          f"expected {FORMAT_VERSION}")


def readable_checkpoints(folder):
    """(path, state, passed_over) of each checkpoint whose state.json reads,
    best first: the one latest.json names, then the other ``epoch-NNNN``
    folders, newest first. ``passed_over`` says why better ones were skipped
    (a missing latest.json, a damaged state.json; None for the first choice).
    With none readable: the first one's error, or "no checkpoint"."""
    pointer = read_pointer(folder)
    names = sorted((d for d in os.listdir(folder) if d.startswith("epoch-")), reverse=True) \
        if os.path.isdir(folder) else []
    others = [os.path.join(folder, n) for n in names if os.path.join(folder, n) != pointer]
    passed_over = None if pointer is not None else f"{os.path.join(folder, LATEST)} is missing or unreadable"
    first_error, found = None, False
    for path in ([pointer] if pointer is not None else []) + others:
        try:
            state = read_state(path)
        except DeepFMError as err:
            first_error = first_error or err
            passed_over = passed_over or err
            continue
        _check_version(path, state)
        found = True
        yield path, state, passed_over
        passed_over = None
    if not found:
        raise first_error if pointer is not None and first_error is not None else \
            DeepFMError(f"{folder}: no checkpoint to resume from (no {LATEST})")


def read_latest(folder):
    """state.json of the checkpoint a resume starts from, with its folder:
    the one latest.json names, else (missing, unreadable, or a damaged
    state.json) the newest complete one. Quiet: ``restore_checkpoint`` says
    which one it used."""
    path, state, _ = next(readable_checkpoints(folder))
    return path, state


def restore_checkpoint(folder, fitter, batches):
    """Load the latest checkpoint in ``folder`` into an initialized
    ``fitter`` and ``batches``; returns the epoch (int) it was written after.
    A damaged checkpoint (unreadable state, parameters or optimizer states)
    gives way to the next newest one, with a warning; with none left, one error."""
    failed = None
    for path, state, passed_over in readable_checkpoints(folder):
        if failed is not None:
            print(f"warning: {failed}; resuming from the older checkpoint {path}", file=sys.stderr)
        elif passed_over is not None:
            print(f"warning: {passed_over}; resuming from the newest complete checkpoint {path}",
                  file=sys.stderr)
        if state["kind"] != fitter.kind:
            raise DeepFMError(f"{path}: checkpoint of a {state['kind']} model, not {fitter.kind}")
        try:
            restore_into(path, state, fitter, batches)
            return state["epoch"]
        except DeepFMError as err:
            failed = err
    raise failed


def restore_into(path, state, fitter, batches):
    """Parameters, optimizer states, batch order and history of checkpoint ``path``."""
    try:
        # ctx=None: into the initialized parameters wherever they live (a sparse
        # run keeps its tables on the first device only)
        gluon_compat.load_parameters_in_place(fitter.net, os.path.join(path, "model.params"))
    except (AssertionError, mx.base.MXNetError, ValueError, OSError) as err:
        raise DeepFMError(f"{path}/model.params: unreadable or does not fit this model ({useful_line(err, 200)})") from None
    restore_rest(path, state, fitter, batches)


def restore_rest(path, state, fitter, batches):
    """Optimizer states, batch order and history of checkpoint ``path``; a
    damaged part is one DeepFMError naming the checkpoint."""
    try:
        states = os.path.join(path, "optimizer.states")
        arrays = gluon_compat.open_arrays_file(states) or mx.nd.load(states)  # one array at a time
        try:
            _restore_tables(fitter.table_states(), arrays, state["optimizer"].get("tables"), path)
            _restore_updaters(fitter, arrays, state["optimizer"])
        finally:
            if isinstance(arrays, gluon_compat.ArraysFile):
                arrays.close()
        batches.set_state(state["batches"])
        fitter.history = History.from_dict(state["history"])
    except (mx.base.MXNetError, KeyError, TypeError, ValueError, IndexError, AttributeError, OSError) as err:
        reason = useful_line(err, 200) if str(err).strip() else type(err).__name__
        raise DeepFMError(f"{path}: damaged checkpoint (optimizer.states or state.json: {reason})") from None
