"""The book's pipeline, as the benchmarks run it against the package.

``run_book_pipeline`` is the chapter's training cell: ``d2l.CTRDataset`` +
``gluon.data.DataLoader`` + a ``train_ch13`` loop around the chapter's
verbatim ``DeepFM`` Block (``deepfm_gluon.reference``), with two changes,
both needed to run it here:

- devices: ``d2l.try_all_gpus()`` is ``[]`` on a CPU-only machine and
  train_ch13 then fails, so an empty list becomes ``[mx.cpu()]``;
- no ``d2l.Animator``: plotting is not training; the loop is otherwise
  train_ch13's (``d2l.train_batch_ch13`` per batch, ``float(l.sum())``
  per batch, ``d2l.evaluate_accuracy_gpus`` on the test loader per epoch).

The DataLoaders use the book's own worker count,
``d2l.get_dataloader_workers()`` (4 worker processes), as the book's readers
run it; ``num_workers=0`` (reading in the main process, often faster on a
2-core machine) is the other setting the suite reports.
"""
import time

import mxnet as mx
from mxnet import gluon, init, npx

from ..reference.book import BookDeepFM


def book_devices():
    """``d2l.try_all_gpus()``, or ``[mx.cpu()]`` where it is empty (the CPU fix)."""
    from d2l import mxnet as d2l  # start-up: only when used (d2l imports matplotlib, pandas)
    return d2l.try_all_gpus() or [mx.cpu()]


def train_ch13_no_plot(net, train_iter, test_iter, loss, trainer, num_epochs, devices):
    """d2l.train_ch13 without the Animator; returns its numbers instead of printing."""
    from d2l import mxnet as d2l  # start-up: only when used (d2l imports matplotlib, pandas)
    timer = d2l.Timer()
    test_acc, trained = 0.0, 0
    for _ in range(num_epochs):
        metric = d2l.Accumulator(4)
        for features, labels in train_iter:
            timer.start()
            l, acc = d2l.train_batch_ch13(net, features, labels, loss, trainer, devices,
                                          d2l.split_batch)
            metric.add(l, acc, labels.shape[0], labels.size)
            timer.stop()
            trained += labels.shape[0]
        test_acc = d2l.evaluate_accuracy_gpus(net, test_iter, d2l.split_batch)
    return {"train_loss": metric[0] / metric[2], "train_acc": metric[1] / metric[3],
            "test_acc": test_acc, "book_examples_per_sec": metric[2] * num_epochs / timer.sum(), "examples": trained}


def run_book_pipeline(train_path, test_path, epochs, batch_size=2048, seed=0, num_workers=None):
    """The chapter's training cell end to end (files to trained net); returns
    (net, train_data, numbers). ``seconds`` covers everything from reading
    the files to the last evaluation. ``num_workers``: the DataLoaders'
    worker processes; None is the book's ``d2l.get_dataloader_workers()``."""
    from d2l import mxnet as d2l  # start-up: only when used (d2l imports matplotlib, pandas)
    if num_workers is None:
        num_workers = d2l.get_dataloader_workers()
    npx.set_np()
    mx.random.seed(seed)
    start = time.perf_counter()
    train_data = d2l.CTRDataset(train_path)
    test_data = d2l.CTRDataset(test_path, feat_mapper=train_data.feat_mapper,
                               defaults=train_data.defaults)
    field_dims = train_data.field_dims
    train_iter = gluon.data.DataLoader(
        train_data, shuffle=True, last_batch='rollover', batch_size=batch_size, num_workers=num_workers)
    test_iter = gluon.data.DataLoader(
        test_data, shuffle=False, last_batch='rollover', batch_size=batch_size, num_workers=num_workers)
    devices = book_devices()
    net = BookDeepFM(field_dims, num_factors=10, mlp_dims=[30, 20, 10])
    net.initialize(init.Xavier(), ctx=devices)
    trainer = gluon.Trainer(net.collect_params(), 'adam', {'learning_rate': 0.01})
    loss = gluon.loss.SigmoidBinaryCrossEntropyLoss()
    numbers = train_ch13_no_plot(net, train_iter, test_iter, loss, trainer, epochs, devices)
    numbers["seconds"] = time.perf_counter() - start
    numbers["num_workers"] = num_workers
    return net, train_data, numbers
