"""A trained net in MXNet's own deployment format: ``HybridBlock.export``.

Writes ``PREFIX-symbol.json`` (the traced graph) and ``PREFIX-0000.params``.
Anyone with MXNet 1.9.1 loads it without this package:

    import mxnet as mx
    mx.npx.set_np()   # the graph and arrays are numpy-mode; without this the load fails
    net = mx.gluon.SymbolBlock.imports("PREFIX-symbol.json", ["data"], "PREFIX-0000.params")
    probs = net(mx.np.array(indices, dtype="int32"))   # (batch, 1) click probabilities

apache/mxnet#18918 (export/imports under ``npx.set_np()``) does not bite in
1.9.1 when the loader turns numpy mode on as above; tests/serving/test_export.py
checks the round trip in a fresh process that never imports deepfm_gluon.
"""
import os

MXNET_INPUT_NAME = "data"  # what HybridBlock.export calls a block's single input


def mxnet_export_paths(prefix):
    """(symbol file, params file) that ``export_mxnet(net, prefix)`` writes."""
    return f"{prefix}-symbol.json", f"{prefix}-0000.params"


def export_mxnet(net, prefix):
    """Trace ``net`` (an FM or DeepFM, numpy mode) once and write its symbol and
    parameters next to ``prefix``; returns the two paths. Files appear whole or
    not at all (written beside the target, then renamed)."""
    from mxnet import np  # start-up: only when exporting, keeps `import deepfm_gluon.serving` light

    net.hybridize(static_alloc=True)
    net(np.zeros((1, len(net.config()["field_dims"])), dtype="int32"))  # export needs one traced call
    folder = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(folder, exist_ok=True)
    tmp_prefix = os.path.join(folder, f".{os.path.basename(prefix)}.{os.getpid()}.tmp")
    tmp_paths, final_paths = mxnet_export_paths(tmp_prefix), mxnet_export_paths(prefix)
    try:
        net.export(tmp_prefix, epoch=0)
        for tmp, final in zip(tmp_paths, final_paths):
            os.replace(tmp, final)
    finally:
        for tmp in tmp_paths:
            if os.path.exists(tmp):
                os.remove(tmp)
    return final_paths
