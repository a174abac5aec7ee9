"""A kvstore server (or scheduler) that never unpickles, and answers the
package's commands: ``python -m deepfm_gluon.distributed.ps_server``.

MXNet's own server takes command head 0 as a pickled optimizer and runs
``pickle.loads`` on it: whoever reaches a server's port could run code there.
This one takes only "DFM ..." commands on head 0 and refuses anything else
in one line, unread. MXNet's server passes only head 0 to the Python
controller, on its main thread and in order with the updates
(apache/mxnet#15919: Trainer.set_learning_rate never reaches servers):

  "DFM OPTIMIZER {json}"  build the RoutedOptimizer it describes (names and
                          hyperparameters on an allow-list; ps_optimizer.py)
  "DFM SET_LR 0.01"   the servers' learning rate, states kept
  "DFM STATS"         print the rows pushed per table key
  "DFM SAVE DIR"      write this server's tables' optimizer states and update counts
  "DFM LOAD DIR"      put them back (the weights come back through kv.init)

A command that fails (a refused optimizer, an unreadable or pickled state
file) ends this server with one line and exit code 2, so the launcher stops
the job naming it; nothing is applied half-way silently.
``import mxnet`` runs the server inside the import when DMLC_ROLE=server, so
the role is hidden during the import and restored after.
"""
import os
import sys

MARK = "DFM "


def _import_mxnet_quietly():
    role = os.environ.get("DMLC_ROLE")
    os.environ["DMLC_ROLE"] = "worker"   # keep `import mxnet` from running the role
    import mxnet  # not at module start-up: with DMLC_ROLE=server the import itself would start serving
    os.environ["DMLC_ROLE"] = role or ""
    return mxnet


def serve():
    """Run this process's DMLC_ROLE (server or scheduler) until the job ends."""
    mx = _import_mxnet_quietly()
    from mxnet.kvstore import kvstore_server  # after the start-up guard above: mxnet imported role-less
    from ..errors import DeepFMError, useful_line  # after the guard, with the other package imports
    from .ps_optimizer import COMMAND, optimizer_from_command  # after the guard (imports mxnet)

    class Server(kvstore_server.KVStoreServer):
        def _controller(self):
            def controller(cmd_id, cmd_body, _):
                rank = self.kvstore.rank
                body = cmd_body.decode("utf-8", "replace") if isinstance(cmd_body, bytes) else str(cmd_body)
                if cmd_id != 0 or not body.startswith(MARK):
                    print(f"server {rank}: refused command {cmd_id} ({len(body)} bytes, not a DFM "
                          "command; a pickled optimizer is never read)", flush=True)
                    return
                what, _, arg = body[len(MARK):].partition(" ")
                try:
                    run_command(self.kvstore, what, arg)
                except (DeepFMError, mx.base.MXNetError, OSError, ValueError, KeyError, TypeError,
                        AttributeError) as err:
                    print(f"server {rank}: error: DFM {what}: {useful_line(err, 300) or type(err).__name__}",
                          flush=True)
                    sys.stdout.flush()
                    os._exit(2)

            return controller

    def run_command(kvstore, what, arg):
        updater = kvstore._updater
        if what == COMMAND:
            kvstore.set_optimizer(optimizer_from_command(arg))  # on a server: sets the updater, no pickle
        elif updater is None:
            raise DeepFMError("no optimizer set yet")
        elif what == "SET_LR":
            updater.optimizer.set_learning_rate(float(arg))
        elif what == "STATS":
            print(f"server {kvstore.rank}: rows pushed {updater.optimizer.rows_pushed}", flush=True)
        elif what == "SAVE":
            save_states(kvstore.rank, updater, arg)
        elif what == "LOAD":
            load_states(kvstore.rank, updater, arg)
        else:
            raise DeepFMError(f"unknown command {what!r}")

    Server(mx.kv.create("dist")).run()  # the scheduler too: no role runs MXNet's pickling controller


def saved_server_counts(checkpoint_dir):
    """{epoch folder name: how many servers wrote it} of a parameter-server
    job's checkpoints in ``checkpoint_dir`` ({} for a dense job or none yet).
    Each server saves the rows of its key range, so the states fit only the
    same number of servers (a resume with another count is refused)."""
    root = os.path.join(checkpoint_dir, "servers")
    counts = {}
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            folder = os.path.join(root, name)
            if name.startswith("epoch-") and os.path.isdir(folder):
                counts[name] = sum(1 for f in os.listdir(folder) if f.startswith("server") and f.endswith(".json"))
    return counts


def server_count_problem(checkpoint_dir, servers):
    """One line refusing to resume the checkpoints in ``checkpoint_dir`` on
    ``servers`` parameter servers when another number wrote them; else None."""
    written = {n for n in saved_server_counts(checkpoint_dir).values() if n}
    if not written or written == {servers}:
        return None
    saved = max(written)
    return (f"--servers {servers}: the checkpoints in {checkpoint_dir} hold the table states of "
            f"{saved} parameter server(s), sharded by server; resume with --servers {saved}")


def save_states(rank, updater, folder):
    """This server's table optimizer states (its slice of each table's rows)
    and update counts, as .npy files and JSON: nothing pickled."""
    import json  # server-side commands only: not needed at start-up
    import numpy as np  # server-side commands only: not needed at start-up
    os.makedirs(folder, exist_ok=True)
    table = updater.optimizer.table
    counts = {}
    for key in sorted(updater.optimizer.table_keys):
        state = updater.states.get(key)
        parts = state if isinstance(state, (tuple, list)) else ([] if state is None else [state])
        for j, part in enumerate(parts):
            np.save(os.path.join(folder, f"server{rank}-key{key}-state{j}.npy"), part.asnumpy())
        counts[str(key)] = {"parts": len(parts), "count": table._index_update_count.get(key)}
    with open(os.path.join(folder, f"server{rank}.json"), "w") as f:
        json.dump({"keys": counts, "num_update": table.num_update}, f)


def load_states(rank, updater, folder):
    """Put back ``save_states``'s files. Lazy Adam's states on a row_sparse
    store must hold every row (a partial row set crashes the server)."""
    import json  # server-side commands only: not needed at start-up
    import mxnet as mx  # imported at start-up by serve() with the role hidden; named here
    import numpy as np  # server-side commands only: not needed at start-up
    with open(os.path.join(folder, f"server{rank}.json")) as f:
        meta = json.load(f)
    table = updater.optimizer.table
    for key_text, entry in meta["keys"].items():
        key = int(key_text)
        parts = []
        for j in range(entry["parts"]):
            a = np.load(os.path.join(folder, f"server{rank}-key{key}-state{j}.npy"), allow_pickle=False)
            parts.append(mx.nd.sparse.row_sparse_array(
                (mx.nd.array(a), mx.nd.arange(len(a), dtype="int64")), shape=a.shape))
        if parts:
            updater.states[key] = tuple(parts) if len(parts) > 1 else parts[0]
            updater.states_synced[key] = True
        if entry["count"] is not None:
            table._index_update_count[key] = entry["count"]
    table.num_update = meta["num_update"]


if __name__ == "__main__":
    sys.exit(serve())
