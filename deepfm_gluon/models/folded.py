"""Prediction with every per-feature term folded into one table (FM, DeepFM).

Why: on the no-AVX MXNet wheel a DeepFM prediction batch spends most of its
time passing over the (B, f*k) embeddings: the gather writes them, the MLP's
first Dense and the field-sum product read them again (docs/benchmarks.md,
"folded tables"). With the weights fixed, everything that is linear in one
example's embeddings is a sum over its fields of one row per feature:

- ``sum_f e_{x_f}`` (k numbers, for the FM's square of the sum);
- the first hidden layer before its activation,
  ``W1 [e_{x_1}; ...; e_{x_f}] + b1 = sum_f W1_f e_{x_f} + b1`` (h numbers);
- the linear term and the FM's sum of squares,
  ``lw * sum_f w_{x_f} + lb - 0.5 * sum_f ||e_{x_f}||^2`` (1 number).

So a table of k + h + 1 columns, built once from the trained weights, and
one sparse (B, rows) 0/1 matrix times that table (MXNet's CSR ``dot``, an
embedding bag) give all of them; a last table row holds the biases and every
example takes it once. What is left (the square of the sum, the MLP's later
layers) works on (B, k + h) numbers. About 10x fewer operations per example
than the graph for the book's DeepFM; the same logits up to float32
rounding (tests/models/test_folded.py: against the book's Block and the
package's graph). Only for tables of at most ``MAX_FOLDED_TABLE_BYTES``: a
Criteo-size table times a 400-wide layer would not fit in memory.
"""
import mxnet as mx
import numpy as np
from mxnet.gluon import nn

from ..errors import DeepFMError

MAX_FOLDED_TABLE_BYTES = 256 * 2 ** 20
ACTIVATIONS = ("relu", "sigmoid", "tanh", "softrelu")


class FoldedNet:
    """Logits of a trained FM or DeepFM from its folded table (see the module doc).

    ``table``: float32 (rows + 1, k + h + 1), per feature row
    ``[e | W1_f e | lw*w - 0.5*||e||^2]`` and last the bias row ``[0 | b1 | lb]``;
    ``num_factors``: k; ``hidden``: h (0 for the FM); ``hidden_act``: the first
    hidden layer's activation; ``layers``: the MLP's later Dense layers as
    (weight (out, in), bias (out,) or None, activation or None) numpy arrays.
    """

    def __init__(self, table, num_factors, hidden=0, hidden_act=None, layers=()):
        self.rows = table.shape[0] - 1
        self.num_factors, self.hidden, self.hidden_act = int(num_factors), int(hidden), hidden_act
        self.table = mx.nd.array(table, dtype=np.float32)
        half = np.zeros((1, table.shape[1]), np.float32)
        half[0, :self.num_factors] = 0.5  # 0.5 * ||sum_f e_f||^2 from the squared columns
        self.half_square_of_sum = mx.nd.array(half)
        self.layers = [(mx.nd.array(w), None if b is None else mx.nd.array(b), act) for w, b, act in layers]
        self._bag_constants = {}  # batch size -> (ones, indptr) of its 0/1 matrix

    def logits(self, features, batch_size=8192):
        """features: int (n, num_fields) global feature ids -> float32 (n,) logits.
        Every batch is queued before the first is read back."""
        return self._score(features, batch_size, lambda logit: logit)

    def probabilities(self, features, batch_size=8192):
        """features: int (n, num_fields) global feature ids -> float32 (n,)
        click probabilities (MXNet's sigmoid, as the models' output)."""
        return self._score(features, batch_size, mx.nd.sigmoid)

    def _score(self, features, batch_size, output):
        features = np.asarray(features)
        if len(features) and (features.min() < 0 or features.max() >= self.rows):
            raise DeepFMError(f"feature ids must lie in [0, {self.rows}) (the model's table rows); "
                              f"got {features.min()}..{features.max()}")
        outputs = [output(self._batch_logits(features[i:i + batch_size]))
                   for i in range(0, len(features), batch_size)]
        return np.concatenate([o.asnumpy().ravel() for o in outputs]) if outputs else np.empty(0, np.float32)

    def _batch_logits(self, x):
        sums = self._bag(x)  # (B, k + h + 1)
        logit = mx.nd.FullyConnected(sums * sums, self.half_square_of_sum, num_hidden=1, no_bias=True)
        width = self.num_factors + self.hidden
        logit = logit + mx.nd.slice_axis(sums, axis=1, begin=width, end=width + 1)
        if not self.hidden:
            return logit
        h = _activate(mx.nd.slice_axis(sums, axis=1, begin=self.num_factors, end=width), self.hidden_act)
        for weight, bias, act in self.layers:
            h = _activate(mx.nd.FullyConnected(h, weight, bias, num_hidden=weight.shape[0], no_bias=bias is None),
                          act)
        return logit + h

    def _bag(self, x):
        """sum over each row's feature rows and the bias row: (B, width)."""
        n, f = x.shape
        ids = np.empty((n, f + 1), np.int64)
        ids[:, :f] = x
        ids[:, f] = self.rows  # the bias row, once per example
        if n not in self._bag_constants:
            self._bag_constants[n] = (np.ones(n * (f + 1), np.float32),
                                      np.arange(0, n * (f + 1) + 1, f + 1, dtype=np.int64))
        ones, indptr = self._bag_constants[n]
        bag = mx.nd.sparse.csr_matrix((ones, ids.ravel(), indptr), shape=(n, self.rows + 1))
        return mx.nd.sparse.dot(bag, self.table)


def _activate(h, act):
    return h if act is None else mx.nd.Activation(h, act_type=act)


def _array(param):
    return param.data().asnumpy().astype(np.float64)


def _act_type(dense):
    """A Dense layer's activation name, or None; refuses what cannot be folded."""
    if dense.act is None:
        return None
    act = dense.act._act_type
    if act not in ACTIVATIONS:
        raise DeepFMError(f"cannot fold a Dense with activation {act!r}")
    return act


def fm_columns(net):
    """The FM part's per-feature columns and bias: (rows, k + 1) float64
    ``[e | lw*w - 0.5*||e||^2]`` and the bias row's last entry lb."""
    emb, w = _array(net.embedding.weight), _array(net.fc.weight)
    lw, lb = _array(net.linear_layer.weight).item(), _array(net.linear_layer.bias).item()
    return emb, lw * w[:, :1] - 0.5 * np.sum(emb * emb, axis=1, keepdims=True), lb


def fold_fm(net):
    """A ``FoldedNet`` for a trained ``FM``, or None if its table is too large."""
    emb, linear, lb = fm_columns(net)
    if not _fits(emb.shape[0], emb.shape[1] + 1):
        return None
    bias_row = np.zeros((1, emb.shape[1] + 1))
    bias_row[0, -1] = lb
    return FoldedNet(np.concatenate([np.concatenate([emb, linear], axis=1), bias_row]).astype(np.float32),
                     net.num_factors)


def fold_deepfm(net):
    """A ``FoldedNet`` for a trained ``DeepFM`` (its MLP of Dense and Dropout
    blocks), or None if its table would be too large."""
    emb, linear, lb = fm_columns(net)
    dense = [layer for layer in net.mlp if not isinstance(layer, nn.Dropout)]
    if not all(isinstance(layer, nn.Dense) for layer in dense):
        return None
    first, rest = dense[0], dense[1:]
    w1 = _array(first.weight)  # (h, f*k), column f*k + j reads field f's factor j
    hidden = w1.shape[0]
    if not _fits(emb.shape[0], emb.shape[1] + hidden + 1):
        return None
    field_of_row = np.repeat(np.arange(net.num_fields), net.field_dims)
    per_field = w1.reshape(hidden, net.num_fields, net.num_factors).transpose(1, 0, 2)  # (f, h, k)
    folded = np.einsum("rk,rhk->rh", emb, per_field[field_of_row])  # W1_f e for each row r of field f
    bias_row = np.zeros((1, emb.shape[1] + hidden + 1))
    if first.bias is not None:
        bias_row[0, emb.shape[1]:-1] = _array(first.bias)
    bias_row[0, -1] = lb
    table = np.concatenate([np.concatenate([emb, folded, linear], axis=1), bias_row]).astype(np.float32)
    layers = [(_array(d.weight).astype(np.float32), None if d.bias is None else _array(d.bias).astype(np.float32),
               _act_type(d)) for d in rest]
    return FoldedNet(table, net.num_factors, hidden, _act_type(first), layers)


def _fits(rows, width):
    return (rows + 1) * width * 4 <= MAX_FOLDED_TABLE_BYTES
