"""Synthetic data in Criteo's raw layout, deterministic by seed.

Lines look like Kaggle's train.txt: label TAB 13 integers TAB 26 8-hex-digit
tokens, with empty cells at per-field rates and Zipf-skewed categorical
values (so the min-count threshold bites). Labels follow

    z = b + sum_f w_f(v_f)  +  sum over 8 field pairs <u_f(v_f), u_g(v_g)>
          + a * s(C1) s(C2) s(C3)              (a 3-way parity no FM can fit)

with the bias solved so the click rate is ``target_ctr``; integer fields
enter through their log^2 bucket, as the reader sees them. ``bad_every``
replaces every k-th line with a malformed one (cycling: too few columns, too
many, label "2", blank), for tests of the skip report. Rows are produced in
blocks, each from its own seeded generator, so any size streams to disk in
bounded memory and the same spec gives the same bytes.
"""
import dataclasses
import os

import numpy as np

from .format import NUM_CAT, NUM_INT

BLOCK_ROWS = 200_000
BAD_KINDS = ("few", "many", "label", "blank")


@dataclasses.dataclass(frozen=True)
class CriteoSyntheticSpec:
    num_rows: int = 100_000
    seed: int = 0
    max_cardinality: int = 200_000
    zipf_exponent: float = 1.1
    empty_rate: float = 0.1
    target_ctr: float = 0.25
    pairwise_scale: float = 0.6
    parity_strength: float = 1.2
    bad_every: int = 0
    signal_scale: float = 1.0  # < 1 weakens every effect (0.2: the true model's AUC is about 0.64)


class _Model:
    """The per-value parameters behind the labels; a pure function of the spec."""

    def __init__(self, spec):
        rng = np.random.default_rng([spec.seed, 0])
        self.cards = np.exp(rng.uniform(np.log(4), np.log(spec.max_cardinality), NUM_CAT)).astype(int)
        self.cards[:3] = 4  # parity fields: small, so every combination is common
        self.empty = rng.uniform(0, 2 * spec.empty_rate, NUM_INT + NUM_CAT)
        self.int_scale = rng.uniform(0.5, 3.0, NUM_INT)  # lognormal sigma per integer field
        self.tokens = [rng.integers(0, 2**32, size=c, dtype=np.uint64) for c in self.cards]
        self.w_cat = [rng.normal(0, 0.5, c + 1) for c in self.cards]  # last entry: empty
        self.w_int = rng.normal(0, 0.3, (NUM_INT, 64))
        self.pairs = rng.permutation(np.arange(3, NUM_CAT))[:16].reshape(8, 2)
        self.u = {int(f): rng.normal(0, 0.5, (self.cards[f] + 1, 4)) for f in self.pairs.ravel()}
        self.signs = [rng.choice([-1.0, 1.0], 5) for _ in range(3)]
        self.bias = 0.0
        sample = self.draw(np.random.default_rng([spec.seed, 1]), 50_000, spec)
        z = sample[2]
        low, high = -20.0, 20.0
        for _ in range(50):
            mid = (low + high) / 2
            low, high = (mid, high) if np.mean(1 / (1 + np.exp(-(z + mid)))) < spec.target_ctr else (low, mid)
        self.bias = (low + high) / 2

    def draw(self, rng, n, spec):
        """(ints (n,13) float with NaN for empty, cat ids (n,26) with -1 for empty, logits)."""
        ints = np.floor(np.exp(rng.normal(0, 1, (n, NUM_INT)) * self.int_scale)) - 1
        ints[rng.random((n, NUM_INT)) < self.empty[:NUM_INT]] = np.nan
        buckets = np.where(np.isnan(ints), 63, np.where(ints > 2, np.floor(np.log(np.maximum(ints, 3)) ** 2),
                                                       ints + 1)).astype(int).clip(0, 63)
        cats = np.empty((n, NUM_CAT), dtype=np.int64)
        for f, card in enumerate(self.cards):
            p = 1.0 / np.arange(1, card + 1) ** spec.zipf_exponent
            cats[:, f] = rng.choice(card, size=n, p=p / p.sum())
        cats[rng.random((n, NUM_CAT)) < self.empty[NUM_INT:]] = -1
        z = np.full(n, self.bias)
        for f in range(NUM_INT):
            z += self.w_int[f][buckets[:, f]]
        for f in range(NUM_CAT):
            z += self.w_cat[f][cats[:, f]]
        for f, g in self.pairs:
            z += spec.pairwise_scale * np.sum(self.u[f][cats[:, f]] * self.u[g][cats[:, g]], axis=1)
        parity = np.prod([self.signs[f][cats[:, f]] for f in range(3)], axis=0)
        z += spec.parity_strength * parity
        if spec.signal_scale != 1.0:
            z = self.bias + spec.signal_scale * (z - self.bias)
        return ints, cats, z


def _format_block(labels, ints, cats, model):
    cols = [labels.astype(np.int64).astype(str).astype(object)]
    for f in range(NUM_INT):
        col = np.where(np.isnan(ints[:, f]), -99, ints[:, f]).astype(np.int64).astype(str).astype(object)
        col[np.isnan(ints[:, f])] = ""
        cols.append(col)
    for f in range(NUM_CAT):
        table = np.array([f"{t:08x}" for t in model.tokens[f]] + [""], dtype=object)
        cols.append(table[cats[:, f]])
    return ["\t".join(row) for row in zip(*cols)]


def _bad_line(kind, good):
    parts = good.split("\t")
    if kind == "few":
        return "\t".join(parts[:-3])
    if kind == "many":
        return good + "\t00ff00ff"
    if kind == "label":
        return "2\t" + "\t".join(parts[1:])
    return ""


def write_criteo_synthetic(path, spec=CriteoSyntheticSpec()):
    """Write ``spec.num_rows`` lines to ``path`` (no trailing newline on the last,
    like PaddleRec's sample); returns the 1-based line numbers made malformed."""
    model = _Model(spec)
    bad_lines = []
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", newline="\n") as out:
        for b, start in enumerate(range(0, spec.num_rows, BLOCK_ROWS)):
            n = min(BLOCK_ROWS, spec.num_rows - start)
            rng = np.random.default_rng([spec.seed, 2, b])
            ints, cats, z = model.draw(rng, n, spec)
            labels = rng.random(n) < 1 / (1 + np.exp(-z))
            lines = _format_block(labels, ints, cats, model)
            if spec.bad_every:
                for i in range(n):
                    line_no = start + i + 1
                    if line_no % spec.bad_every == 0:
                        lines[i] = _bad_line(BAD_KINDS[len(bad_lines) % len(BAD_KINDS)], lines[i])
                        bad_lines.append(line_no)
            out.write(("\n" if start else "") + "\n".join(lines))
    os.replace(tmp, path)
    return bad_lines
