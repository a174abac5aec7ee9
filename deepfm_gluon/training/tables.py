"""Embedding tables that fit the memory they must hold, and no more.

Gluon's ``initialize`` builds every parameter as a zeros array on the CPU,
fills it, copies it to each device and allocates a gradient of the same size:
three full-size arrays for one table (for a 39M x 20 table, 3 GB each), and
two of them stay. For tables updated sparsely (training/sparse.py computes
their gradients on a compact twin), no gradient buffer is needed at all; and
a large table is filled a slice at a time, in place, on its one device.

Small nets take Gluon's own path unchanged, so their initial weights (and
every test that compares against them) stay the same.
"""
import math

import mxnet as mx
import numpy as np
from mxnet import init

from .. import gluon_compat

LARGE_TABLE_ROWS = 1 << 20  # tables with more rows are filled in slices
SLICE_ROWS = 1 << 18  # rows per slice: the largest temporary is SLICE_ROWS x width floats


def xavier_bound(shape, magnitude=3.0):
    """The bound of Gluon's default ``init.Xavier()`` (uniform, 'avg') for a 2-D weight."""
    fan_out, fan_in = shape
    return math.sqrt(magnitude / ((fan_in + fan_out) / 2.0))


def init_in_slices(param, ctx, slice_rows=SLICE_ROWS):
    """Xavier-uniform values for ``param`` (rows, width), drawn SLICE_ROWS rows at
    a time straight into its one array on ``ctx``: no full-size temporary."""
    rows, width = param.shape
    data = mx.np.empty((rows, width), dtype=param.dtype, ctx=ctx)
    bound = xavier_bound(param.shape)
    for start in range(0, rows, slice_rows):
        stop = min(rows, start + slice_rows)
        data[start:stop] = mx.np.random.uniform(-bound, bound, size=(stop - start, width), ctx=ctx)
        data.wait_to_read()  # else the engine queues every slice's temporary at once: a second table
    gluon_compat.adopt_parameter_data(param, data)
    return param


def init_parameters(net, contexts, sparse_tables=(), large_rows=LARGE_TABLE_ROWS):
    """What ``net.initialize(init.Xavier(), ctx=contexts, force_reinit=True)``
    does, except for the child tables named in ``sparse_tables`` (e.g.
    ('embedding', 'fc')), which are updated elsewhere: they get one copy, on
    ``contexts[0]``, no gradient buffer, and those with more than
    ``large_rows`` rows are filled in slices. The values drawn are Gluon's
    (same order, same draws) for every parameter but the sliced tables."""
    tables = [getattr(net, name).weight for name in sparse_tables]
    if not tables:
        net.initialize(init.Xavier(), ctx=contexts, force_reinit=True)
        return
    for param in tables:
        param.grad_req = "null"
    for param in net.collect_params().values():
        if not any(param is p for p in tables):  # as ParameterDict.initialize does
            param.initialize(None, contexts, init.Xavier(), force_reinit=True)
        elif param.shape[0] > large_rows:
            init_in_slices(param, contexts[0])
        else:
            param.initialize(None, contexts[:1], init.Xavier(), force_reinit=True)


def all_finite(array, slice_rows=SLICE_ROWS):
    """Whether every value of ``array`` (an mx array) is finite, a slice of rows at
    a time (``asnumpy`` of the whole of a 3 GB table would copy it)."""
    rows = array.shape[0] if array.ndim else 1
    if rows <= slice_rows:
        return bool(np.isfinite(array.asnumpy()).all())
    return all(np.isfinite(array[start:start + slice_rows].asnumpy()).all()
               for start in range(0, rows, slice_rows))
