"""``from deepfm_gluon import d2l``: the names the DeepFM and FM chapters' cells
use, with d2l's signatures and printed output, runnable on a CPU and offline.

The chapters' cells start with ``from d2l import mxnet as d2l``; swap that one
line for ``from deepfm_gluon import d2l`` and the rest runs unchanged here
(tests/notebooks/test_book_cells.py runs them). What differs from d2l 1.0.3,
and why:

- ``try_all_gpus()`` is ``[cpu()]`` without a GPU, as d2l's docstring
  promises (d2l returns ``[]`` and ``train_ch13`` then fails);
- ``download_extract('ctr')`` fetches the book's zip from d2l's DATA_HUB and
  checks its sha1; when the server does not answer it writes the calibrated
  synthetic stand-in in the book's layout (``train.csv``, ``test.csv``;
  ``data.synthetic.book_stand_in_spec()``: the default synthetic data with
  the click rate the book's printed "acc" implies and less label noise, so
  that the book's cells end in the book's loss ranges) and says so in one
  line: it is NOT the book's data;
- ``CTRDataset`` is the package's (d2l's arguments and attributes, encoded
  once with numpy; items are numpy arrays, values numbered in sorted order);
- ``train_ch13`` is d2l's loop and prints d2l's two lines; its curves are
  drawn inline inside a notebook, redrawn in place as d2l's Animator does but
  without clearing the cell's other output, and into a PNG file elsewhere
  (d2l's Animator only prints ``<Figure ...>`` outside a notebook).

Everything else is d2l's own object (``accuracy``, ``evaluate_accuracy_gpus``,
``train_batch_ch13``, ``split_batch``, ``Accumulator``, ``Timer``,
``get_dataloader_workers``, ...), so bad input meets d2l's own checks. The
book's behaviour is kept, the double sigmoid of its cells included: this
module runs the book's code, the package's models and ``train`` fix it.
"""
import os

from d2l import mxnet as _book

from .data import ctr_dataset as _ctr_dataset
from .data import sources as _sources
from .data.download import DownloadUnavailable, default_data_dir
from .data.synthetic import book_stand_in_spec
from .training.contexts import parse_contexts

# d2l's own objects, re-exported as they are.
DATA_HUB, DATA_URL = _book.DATA_HUB, _book.DATA_URL
Accumulator, Timer = _book.Accumulator, _book.Timer
accuracy, evaluate_accuracy_gpus = _book.accuracy, _book.evaluate_accuracy_gpus
split_batch, train_batch_ch13 = _book.split_batch, _book.train_batch_ch13
cpu, gpu, num_gpus, try_gpu = _book.cpu, _book.gpu, _book.num_gpus, _book.try_gpu
get_dataloader_workers = _book.get_dataloader_workers
plt = _book.plt

PLOT_FILE = "train_ch13.png"  # where train_ch13 draws its curves outside a notebook
STAND_IN_NOTICE = ("download_extract('ctr'): d2l's DATA_HUB did not answer ({reason}); using the "
                   "calibrated synthetic stand-in in {folder}, NOT the book's data")

__all__ = ["Accumulator", "Animator", "CTRDataset", "DATA_HUB", "DATA_URL", "Timer", "accuracy", "cpu",
           "download_extract", "evaluate_accuracy_gpus", "get_dataloader_workers", "gpu", "num_gpus", "plt",
           "split_batch", "train_batch_ch13", "train_ch13", "try_all_gpus", "try_gpu"]


def try_all_gpus():
    """Return all available GPUs, or [cpu(),] if no GPU exists (d2l's docstring, kept)."""
    return parse_contexts("auto")


class CTRDataset(_ctr_dataset.CTRDataset):
    """d2l's ``CTRDataset(data_path, feat_mapper=None, defaults=None,
    min_threshold=4, num_feat=34)``: the package's encoder behind d2l's
    signature. Items: (int32 (num_feat,) indices with offsets, float32 (1,) label)."""

    def __init__(self, data_path, feat_mapper=None, defaults=None, min_threshold=4, num_feat=34):
        with open(data_path):  # a missing file is d2l's FileNotFoundError, raised by open() as there
            pass
        super().__init__(data_path, feat_mapper=feat_mapper, defaults=defaults,
                         min_threshold=min_threshold, num_feat=num_feat)


def download_extract(name, folder=None):
    """d2l's ``download_extract``: for 'ctr' the book's zip (d2l's DATA_HUB URL,
    sha1 checked, cached in $DEEPFM_GLUON_DATA or d2l's '../data'), or offline the
    stand-in, announced; any other name is d2l's own (a name d2l does not know
    is its KeyError). Returns the folder holding the extracted files."""
    if name != "ctr":
        return _book.download_extract(name, folder)
    url, sha1 = DATA_HUB[name]
    data_dir = default_data_dir()
    try:
        target = _sources.resolve_ctr_dir(data_dir, url=url, sha1=sha1)
    except DownloadUnavailable as err:
        stand_in = _sources.resolve_data_dir("synthetic", data_dir, synthetic=book_stand_in_spec())
        print(STAND_IN_NOTICE.format(reason=err, folder=stand_in), flush=True)
        return stand_in
    return os.path.join(os.path.dirname(target), folder) if folder else target


class Animator:
    """d2l's ``Animator(xlabel, ylabel, legend, xlim, ylim, ...)`` and its
    ``add(x, y)``. Inside a notebook the figure redraws in place after each
    ``add`` (through a display handle: unlike d2l's ``clear_output``, it keeps
    the cell's other output, such as download_extract's notice); elsewhere
    ``save(path)`` draws the points into a PNG. No pyplot state either way."""

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None,
                 xscale='linear', yscale='linear', fmts=('-', 'm--', 'g-.', 'r:'), figsize=(3.5, 2.5)):
        self.axes_config = (xlabel, ylabel, xlim, ylim, xscale, yscale, legend or [])
        self.fmts, self.figsize, self.X, self.Y = fmts, figsize, None, None
        self.live, self.fig, self.handle = in_notebook(), None, None

    def add(self, x, y):
        """d2l's bookkeeping: ``y`` one value per line, ``None`` for no point."""
        if not hasattr(y, "__len__"):
            y = [y]
        n = len(y)
        if not hasattr(x, "__len__"):
            x = [x] * n
        self.X = self.X or [[] for _ in range(n)]
        self.Y = self.Y or [[] for _ in range(n)]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        if self.live:
            self.show()

    def draw(self):
        """The figure with every point so far (Agg canvas)."""
        # imported here to keep start-up fast: the canvas is only needed when a curve is drawn
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        if self.fig is None:
            self.fig = Figure(figsize=self.figsize)
            FigureCanvasAgg(self.fig)
            self.fig.subplots()
            self.fig.subplots_adjust(left=0.15, bottom=0.18, right=0.97, top=0.95)
        axes = self.fig.axes[0]
        axes.cla()
        for xs, ys, fmt in zip(self.X or [], self.Y or [], self.fmts):
            axes.plot(xs, ys, fmt)
        _book.set_axes(axes, *self.axes_config)
        return self.fig

    def show(self):
        """Draw, and show inline: the first time as a new output, then in its place."""
        from IPython import display  # start-up: only inside a notebook
        fig = self.draw()
        if self.handle is None:
            _book.use_svg_display()
            self.handle = display.display(fig, display_id=True)
        else:
            self.handle.update(fig)

    def save(self, path):
        """Draw the curves into a PNG at ``path``; returns ``path``."""
        self.draw().savefig(path, dpi=100)
        return path


def in_notebook():
    """True inside a Jupyter kernel, where figures display inline."""
    try:
        from IPython import get_ipython  # start-up: IPython is only asked when a plot is made
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in shell.config


def train_ch13(net, train_iter, test_iter, loss, trainer, num_epochs,
               devices=try_all_gpus(), split_f=split_batch):
    """Train a model with multiple GPUs (defined in Chapter 13): d2l's loop and
    its two printed lines; curves inline in a notebook, else in PLOT_FILE."""
    timer, num_batches = Timer(), len(train_iter)
    animator = Animator(xlabel='epoch', xlim=[1, num_epochs], ylim=[0, 1],
                        legend=['train loss', 'train acc', 'test acc'])
    for epoch in range(num_epochs):
        # Sum of training loss, sum of training accuracy, no. of examples,
        # no. of predictions
        metric = Accumulator(4)
        for i, (features, labels) in enumerate(train_iter):
            timer.start()
            l, acc = train_batch_ch13(
                net, features, labels, loss, trainer, devices, split_f)
            metric.add(l, acc, labels.shape[0], labels.size)
            timer.stop()
            if (i + 1) % (num_batches // 5) == 0 or i == num_batches - 1:
                animator.add(epoch + (i + 1) / num_batches,
                             (metric[0] / metric[2], metric[1] / metric[3],
                              None))
        test_acc = evaluate_accuracy_gpus(net, test_iter, split_f)
        animator.add(epoch + 1, (None, None, test_acc))
    print(f'loss {metric[0] / metric[2]:.3f}, train acc '
          f'{metric[1] / metric[3]:.3f}, test acc {test_acc:.3f}')
    print(f'{metric[2] * num_epochs / timer.sum():.1f} examples/sec on '
          f'{str(devices)}')
    if not animator.live:
        print(f'curves: {animator.save(PLOT_FILE)}')
