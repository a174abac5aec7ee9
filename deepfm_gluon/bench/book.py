"""The book's pipeline, as the reference the benchmarks measure against.

``BookDeepFM`` (and ``BookFM``, from the FM chapter) are the chapters'
``nn.Block`` code copied verbatim, also the reference the model tests compare with
(eager, axis reductions, ``** 2``). ``run_book_pipeline`` is the chapter's
training cell: ``d2l.CTRDataset`` + ``gluon.data.DataLoader`` + a
``train_ch13`` loop, with two changes, both needed to run it here:

- devices: ``d2l.try_all_gpus()`` is ``[]`` on a CPU-only machine and
  train_ch13 then fails, so an empty list becomes ``[mx.cpu()]``;
- ``num_workers=0``: the book asks ``d2l.get_dataloader_workers()`` (4);
  worker processes would add CPUs this 2-core box does not have and a
  fork per epoch, so the DataLoader reads in the main process;
- no ``d2l.Animator``: plotting is not training; the loop is otherwise
  train_ch13's (``d2l.train_batch_ch13`` per batch, ``float(l.sum())``
  per batch, ``d2l.evaluate_accuracy_gpus`` on the test loader per epoch).
"""
import time

import mxnet as mx
from mxnet import gluon, init, np, npx
from mxnet.gluon import nn


class BookDeepFM(nn.Block):
    """The chapter's DeepFM, verbatim (d2l.ai, "Deep Factorization Machines")."""

    def __init__(self, field_dims, num_factors, mlp_dims, drop_rate=0.1):
        super(BookDeepFM, self).__init__()
        num_inputs = int(sum(field_dims))
        self.embedding = nn.Embedding(num_inputs, num_factors)
        self.fc = nn.Embedding(num_inputs, 1)
        self.linear_layer = nn.Dense(1, use_bias=True)
        input_dim = self.embed_output_dim = len(field_dims) * num_factors
        self.mlp = nn.Sequential()
        for dim in mlp_dims:
            self.mlp.add(nn.Dense(dim, 'relu', True, in_units=input_dim))
            self.mlp.add(nn.Dropout(rate=drop_rate))
            input_dim = dim
        self.mlp.add(nn.Dense(in_units=input_dim, units=1))

    def forward(self, x):
        embed_x = self.embedding(x)
        square_of_sum = np.sum(embed_x, axis=1) ** 2
        sum_of_square = np.sum(embed_x ** 2, axis=1)
        inputs = np.reshape(embed_x, (-1, self.embed_output_dim))
        x = self.linear_layer(self.fc(x).sum(1)) \
            + 0.5 * (square_of_sum - sum_of_square).sum(1, keepdims=True) \
            + self.mlp(inputs)
        x = npx.sigmoid(x)
        return x


class BookFM(nn.Block):
    """The FM chapter's FM, verbatim (d2l.ai, "Factorization Machines")."""

    def __init__(self, field_dims, num_factors):
        super(BookFM, self).__init__()
        num_inputs = int(sum(field_dims))
        self.embedding = nn.Embedding(num_inputs, num_factors)
        self.fc = nn.Embedding(num_inputs, 1)
        self.linear_layer = nn.Dense(1, use_bias=True)

    def forward(self, x):
        square_of_sum = np.sum(self.embedding(x), axis=1) ** 2
        sum_of_square = np.sum(self.embedding(x) ** 2, axis=1)
        x = self.linear_layer(self.fc(x).sum(1)) \
            + 0.5 * (square_of_sum - sum_of_square).sum(1, keepdims=True)
        x = npx.sigmoid(x)
        return x


def book_devices():
    """``d2l.try_all_gpus()``, or ``[mx.cpu()]`` where it is empty (the CPU fix)."""
    from d2l import mxnet as d2l
    return d2l.try_all_gpus() or [mx.cpu()]


def train_ch13_no_plot(net, train_iter, test_iter, loss, trainer, num_epochs, devices):
    """d2l.train_ch13 without the Animator; returns its numbers instead of printing."""
    from d2l import mxnet as d2l
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


def run_book_pipeline(train_path, test_path, epochs, batch_size=2048, seed=0):
    """The chapter's training cell end to end (files to trained net); returns
    (net, train_data, numbers). ``seconds`` covers everything from reading
    the files to the last evaluation."""
    from d2l import mxnet as d2l
    npx.set_np()
    mx.random.seed(seed)
    start = time.perf_counter()
    train_data = d2l.CTRDataset(train_path)
    test_data = d2l.CTRDataset(test_path, feat_mapper=train_data.feat_mapper,
                               defaults=train_data.defaults)
    field_dims = train_data.field_dims
    train_iter = gluon.data.DataLoader(
        train_data, shuffle=True, last_batch='rollover', batch_size=batch_size, num_workers=0)
    test_iter = gluon.data.DataLoader(
        test_data, shuffle=False, last_batch='rollover', batch_size=batch_size, num_workers=0)
    devices = book_devices()
    net = BookDeepFM(field_dims, num_factors=10, mlp_dims=[30, 20, 10])
    net.initialize(init.Xavier(), ctx=devices)
    trainer = gluon.Trainer(net.collect_params(), 'adam', {'learning_rate': 0.01})
    loss = gluon.loss.SigmoidBinaryCrossEntropyLoss()
    numbers = train_ch13_no_plot(net, train_iter, test_iter, loss, trainer, epochs, devices)
    numbers["seconds"] = time.perf_counter() - start
    return net, train_data, numbers
