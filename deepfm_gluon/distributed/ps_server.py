"""A kvstore server (or scheduler) that can unpickle RoutedOptimizer and
answers extra commands: ``python -m deepfm_gluon.distributed.ps_server``.

MXNet's server passes only command head 0 to the Python controller, on its
main thread and in order with the updates; unknown heads are dropped
silently. So the extra commands ride on head 0 with a body that is not a
pickle (apache/mxnet#15919: Trainer.set_learning_rate never reaches servers):

  "DFM SET_LR 0.01"   the servers' learning rate, states kept
  "DFM STATS"         print the rows pushed per table key

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

    class Server(kvstore_server.KVStoreServer):
        def _controller(self):
            base = super()._controller()

            def controller(cmd_id, cmd_body, _):
                body = cmd_body.decode() if isinstance(cmd_body, bytes) else cmd_body
                if cmd_id != 0 or not body.startswith(MARK):
                    return base(cmd_id, cmd_body, _)
                what, _, arg = body[len(MARK):].partition(" ")
                optimizer = self.kvstore._updater.optimizer
                if what == "SET_LR":
                    optimizer.set_learning_rate(float(arg))
                elif what == "STATS":
                    print(f"server {self.kvstore.rank}: rows pushed {optimizer.rows_pushed}", flush=True)
            return controller

    if os.environ.get("DMLC_ROLE") == "server":
        Server(mx.kv.create("dist")).run()
    else:
        kvstore_server._init_kvstore_server_module()


if __name__ == "__main__":
    sys.exit(serve())
