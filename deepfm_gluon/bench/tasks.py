"""One measurement each, run inside a fresh worker process (see ``worker``).

Every task takes plain JSON-able keyword arguments and returns a dict of
numbers; the timers start after imports and data generation, so they time
the work named and nothing else.
"""
import time

import numpy as np

from ..errors import DeepFMError
from ..gluon_compat import params_by_structural_name
from ..startup import import_mxnet_as_is


def _set_np():
    # start-up: imported where used, so each timed process loads only what it measures
    from mxnet import npx
    npx.set_np()


def _load_npz(path):
    data = np.load(path, allow_pickle=False)
    return data["X"], data["y"]


def book_e2e(train_path, test_path, epochs, batch_size, seed=0, num_workers=None):
    """The chapter's pipeline from text files to a trained net (see
    ``book_pipeline``); ``num_workers`` None is the book's own worker count.
    MXNet imports as in the book's own process (``startup.import_mxnet_as_is``)."""
    import_mxnet_as_is()
    # start-up: imported where used, so each timed process loads only what it measures
    from .book_pipeline import run_book_pipeline
    _, _, numbers = run_book_pipeline(train_path, test_path, epochs, batch_size, seed, num_workers)
    return {"examples_per_sec": numbers["examples"] / numbers["seconds"], **numbers}


def ours_e2e(train_path, test_path, epochs, batch_size, seed=0):
    """The package from text files to a trained net: parse, encode, fit
    (with its per-epoch full test-set evaluation, as train_ch13 evaluates)."""
    # start-up: imported where used, so each timed process loads only what it measures
    from ..data.ctr_dataset import CTRDataset
    from ..models import build_model
    from ..training.config import TrainConfig
    from ..training.driver import fit
    _set_np()
    start = time.perf_counter()
    train = CTRDataset(train_path)
    test = CTRDataset(test_path, feat_mapper=train.feat_mapper, defaults=train.defaults)
    net = build_model("deepfm", train.field_dims)
    config = TrainConfig(epochs=epochs, batch_size=batch_size, seed=seed, progress=False,
                         devices="cpu")
    history = fit(net, "deepfm", train, test, config, log=None)
    seconds = time.perf_counter() - start
    examples = sum(r["examples_per_sec"] * r["train_seconds"] for r in history.epochs)
    last = history.last()
    return {"examples_per_sec": examples / seconds, "seconds": seconds, "examples": examples,
            "train_loss": last["train_loss"], "test_auc": last["test_auc"],
            "loop_examples_per_sec": examples / sum(r["train_seconds"] for r in history.epochs)}


def ours_loop(npz_path, epochs, batch_size, seed=0, devices="cpu", model="deepfm", model_config=None,
              lr=None):
    """The package's training loop alone on pre-encoded arrays, timed like
    the PyTorch peer's loop (all epochs, no evaluation). ``model``: any
    registered name, built with its defaults updated by ``model_config``;
    ``lr``: None is the model's default. The embedding tables' updates are
    what ``train`` would choose: row-sparse above ``AUTO_SPARSE_ROWS`` rows."""
    # start-up: imported where used, so each timed process loads only what it measures
    import mxnet as mx
    from ..data.batches import BatchIterator
    from ..models import build_model
    from ..training.config import AUTO_SPARSE_ROWS, TrainConfig
    from ..training.loop import Fitter
    from ..training.sparse import SparseFitter
    _set_np()
    X, y = _load_npz(npz_path)
    field_dims = _field_dims_from_npz(npz_path)
    net = build_model(model, field_dims, **(model_config or {}))
    sparse = int(np.sum(field_dims)) > AUTO_SPARSE_ROWS
    config = TrainConfig(epochs=epochs, batch_size=batch_size, seed=seed, lr=lr, progress=False,
                         devices=devices, sparse=sparse)
    fitter = (SparseFitter if sparse else Fitter)(net, model, config)
    fitter.initialize()
    batches = BatchIterator(X, y, batch_size, shuffle=True, last_batch="rollover", seed=seed)
    start = time.perf_counter()
    seen = 0
    for epoch in range(1, epochs + 1):
        seen += fitter.train_epoch(batches, epoch)[1]
    mx.npx.waitall()
    seconds = time.perf_counter() - start
    return {"examples_per_sec": seen / seconds, "seconds": seconds, "examples": seen, "sparse": sparse}


def _field_dims_from_npz(path):
    return np.load(path, allow_pickle=False)["field_dims"]


def _tile_rows(X, rows):
    reps = -(-rows // len(X))
    return np.ascontiguousarray(np.tile(X, (reps, 1))[:rows])


def predict(npz_path, rows, batch_size, repeats=3, book=True):
    """Prediction throughput, probabilities back in numpy: the package's
    hybridized DeepFM, the same weights folded into one table
    (``models/folded.py``, ``--engine folded``) and the book's eager Block.
    They alternate within the process; each rate is the median pass."""
    # start-up: imported where used, so each timed process loads only what it measures
    import mxnet as mx
    from mxnet import init
    from ..models import build_model, get_spec
    from ..models.inference import hybridize_for_inference
    from ..reference import BookDeepFM
    _set_np()
    X = _tile_rows(_load_npz(npz_path)[0], rows)
    field_dims = _field_dims_from_npz(npz_path)
    ours = build_model("deepfm", field_dims)
    ours.initialize(init.Xavier(), ctx=mx.cpu())
    folded = get_spec("deepfm").fold(ours)
    hybridize_for_inference(ours, static_shape=True)  # as serving/predictor.py does
    nets = {"ours": ours, "ours_folded": folded}
    if book:
        ref = BookDeepFM(field_dims, num_factors=10, mlp_dims=[30, 20, 10])
        ref.initialize(init.Xavier(), ctx=mx.cpu())
        _copy_params(ours, ref)
        nets["book"] = ref
    paths = {"ours": _predict_ours, "ours_folded": _predict_folded, "book": _predict_all}
    outputs = {}
    for name, net in nets.items():  # warm-up: graph building, allocation
        outputs[name] = paths[name](net, X[:batch_size], batch_size)
    times = {name: [] for name in nets}
    for _ in range(repeats):
        for name, net in nets.items():
            start = time.perf_counter()
            paths[name](net, X, batch_size)
            times[name].append(time.perf_counter() - start)
    result = {f"{name}_examples_per_sec": rows / float(np.median(t)) for name, t in times.items()}
    if book:
        result["max_abs_diff_vs_book"] = float(np.max(np.abs(outputs["ours"] - outputs["book"])))
        result["folded_max_abs_diff_vs_book"] = float(np.max(np.abs(outputs["ours_folded"] - outputs["book"])))
    return result


def _copy_params(src, dst):
    """Same children, same names: the book Block loads the package's weights."""
    source = params_by_structural_name(src)
    for name, param in params_by_structural_name(dst).items():
        param.set_data(source[name].data())


def _predict_ours(net, X, batch_size):
    """The package's batch scoring (``training.loop.predict_logits``; given
    the model rather than its logit view, it returns probabilities)."""
    # start-up: imported where used, so each timed process loads only what it measures
    import mxnet as mx
    from ..training.loop import predict_logits
    return predict_logits(net, X, mx.cpu(), batch_size)


def _predict_folded(folded, X, batch_size):
    """The folded engine's probabilities (``serving/folded_engine.py`` does the same)."""
    return folded.probabilities(X, batch_size)


def _predict_all(net, X, batch_size):
    """The book's way: an mx array per batch, the Block called eagerly."""
    # start-up: imported where used, so each timed process loads only what it measures
    import mxnet as mx
    out = []
    for i in range(0, len(X), batch_size):
        chunk = mx.np.array(X[i:i + batch_size], dtype=np.int32)
        out.append(net(chunk))
    return np.concatenate([o.asnumpy().ravel() for o in out])


def encode_ours(path):
    """Rows/sec of the package's CTRDataset: read, parse, build vocabularies, encode."""
    # start-up: imported where used, so each timed process loads only what it measures
    from ..data.ctr_dataset import CTRDataset
    start = time.perf_counter()
    data = CTRDataset(path)
    seconds = time.perf_counter() - start
    return {"rows_per_sec": len(data) / seconds, "rows": len(data), "seconds": seconds}


def encode_d2l(path):
    """Rows/sec of d2l.CTRDataset: its constructor reads and counts, its
    ``__getitem__`` encodes; every row is fetched once, as an epoch does."""
    import_mxnet_as_is()
    # start-up: imported where used, so each timed process loads only what it measures
    from d2l import mxnet as d2l
    _set_np()
    start = time.perf_counter()
    data = d2l.CTRDataset(path)
    for i in range(len(data)):
        data[i]
    seconds = time.perf_counter() - start
    return {"rows_per_sec": len(data) / seconds, "rows": len(data), "seconds": seconds}


TASKS = {"book_e2e": book_e2e, "ours_e2e": ours_e2e, "ours_loop": ours_loop,
         "predict": predict, "encode_ours": encode_ours, "encode_d2l": encode_d2l}


def run_task(name, kwargs):
    if name not in TASKS:
        raise DeepFMError(f"unknown benchmark task {name!r}; expected one of {sorted(TASKS)}")
    return TASKS[name](**kwargs)
