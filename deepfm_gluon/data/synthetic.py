"""A deterministic, book-shaped synthetic CTR data set (the offline default).

Shape: the book's 'ctr' files: tab-separated, label then 34 categorical
fields, 15000 training and 3000 test lines, Zipf-skewed value frequencies,
with many rare values that fall under the min-count threshold of 4.

Labels: ``y ~ Bernoulli(sigmoid(z))`` with

    z = b + sum_f w_f(v_f)                          first order, all fields
          + sum_{(f,g) in PAIRS} <u_f(v_f), u_g(v_g)>  pairwise (what FM models)
          + a3 * s_a(v_a) s_b(v_b) s_c(v_c)            3-way parity, fields 0,1,2
          + a3 * s_d(v_d) s_e(v_e) s_g(v_g)            3-way parity, fields 3,4,5
          + an * (relu(t_6 + t_7) - mean)              nonlinear, fields 6,7

where w, u, t are fixed random per-value draws (w ~ N(0, first_order_scale^2),
u ~ N(0, 1/4) in 4 dimensions, t ~ N(0, 1)), s(v) = +-1 with as many +1 as
-1 values, and the bias b is solved for so that the mean click probability
is ``target_ctr``. Then a share ``label_noise`` of the labels, picked at
random, is replaced by a coin with the click rate: noise that no feature
explains, which a model can only memorize. A 3-way parity is invisible to
every pairwise model: with balanced signs each pair of its fields is
independent of it, so FM cannot fit it, while the MLP in DeepFM can. The
data are a pure function of the spec (seed included), so the same spec
always gives the same bytes.

Calibration: the defaults below were fitted so that the book's double-sigmoid
training curves (``--book-compat``, the book's settings, seed 0) land within
0.02 of the curves the book printed for its real 'ctr' data, with the book
data's click rate of ~0.5 (its FM loss of 0.504 is only reachable with about
half positives), while DeepFM still beats FM in correct mode. The fit and its
numbers: docs/reproduction.md, "Calibrating the synthetic default";
benchmarks/calibrate_synthetic.py reruns it.
"""
import dataclasses
import json
import os

import numpy as np

from ..atomic import atomic_write, atomic_write_json
from ..errors import DeepFMError

NUM_FIELDS = 34


@dataclasses.dataclass(frozen=True)
class SyntheticSpec:
    """Everything that determines the generated files."""

    num_train: int = 15000
    num_test: int = 3000
    num_fields: int = NUM_FIELDS
    seed: int = 0
    zipf_exponent: float = 1.3
    min_cardinality: int = 4
    max_cardinality: int = 2500
    # Calibrated (see the module doc); before: 6, 0.3, 0.6, 0.5, 6, 1.6, 1.0, 0.0.
    interaction_cardinality: int = 6  # even, so that parity signs can be balanced
    target_ctr: float = 0.5
    first_order_scale: float = 8.0
    pairwise_scale: float = 0.5
    num_pairs: int = 6
    parity_strength: float = 5.0
    nonlinear_strength: float = 3.0
    label_noise: float = 0.08

    def validate(self):
        """Reject specs the generating model cannot honour."""
        if self.interaction_cardinality < 2 or self.interaction_cardinality % 2:
            raise DeepFMError(f"SyntheticSpec: interaction_cardinality {self.interaction_cardinality}: "
                              "expected an even number >= 2 (parity signs are balanced)")
        if not 0 < self.target_ctr < 1 or not 0 <= self.label_noise <= 1:
            raise DeepFMError("SyntheticSpec: expected 0 < target_ctr < 1 and 0 <= label_noise <= 1")
        if self.num_fields < 8 + 2 * self.num_pairs:
            raise DeepFMError(f"SyntheticSpec: {self.num_fields} fields hold the 8 interaction "
                              f"fields but not {self.num_pairs} disjoint pairs")
        return self

    def key(self):
        """A short stable name for caching the files of this spec."""
        default = SyntheticSpec()
        changed = [f"{f.name}={getattr(self, f.name)}" for f in dataclasses.fields(self)
                   if getattr(self, f.name) != getattr(default, f.name)]
        return "synthetic" + ("-" + "-".join(changed) if changed else "")


# The offline stand-in for the book's 'ctr' data: what ``d2l.download_extract('ctr')``
# writes without a network, so what the book's cells and the notebooks run on.
# The default above with two changes. The click rate: the book's printed "acc"
# is d2l's exact-equality accuracy, which counts lines whose output saturated to
# exactly 1.0 with a positive label (exactly 0.0 needs a logit below about -88),
# so its DeepFM test "acc" of 0.510 says that at least about half of the test
# lines it scored were positives. And less label noise: with the default's, FM
# and DeepFM end 0.009-0.010 apart in the book's cells, the book 0.005 apart,
# and no click rate puts both final losses inside the book's ranges. Chosen on
# the book's printed *training* numbers (both final losses inside the book's
# ranges with the largest margin; then the curve): docs/reproduction.md,
# "The stand-in for the book's cells"; benchmarks/calibrate_synthetic.py.
BOOK_STAND_IN_CHANGES = {"target_ctr": 0.525, "label_noise": 0.04}


def book_stand_in_spec():
    """The SyntheticSpec of the book's offline stand-in (BOOK_STAND_IN_CHANGES)."""
    return SyntheticSpec(**BOOK_STAND_IN_CHANGES)


def _cardinalities(spec, rng):
    """Field sizes spread log-uniformly; fields 0-7 (the planted interactions)
    are small so that every combination is seen often enough to be learnable."""
    cards = np.exp(rng.uniform(np.log(spec.min_cardinality), np.log(spec.max_cardinality),
                               spec.num_fields)).astype(int)
    cards[:8] = spec.interaction_cardinality
    return cards


def _zipf_draw(rng, card, n, exponent):
    p = 1.0 / np.arange(1, card + 1) ** exponent
    return rng.choice(card, size=n, p=p / p.sum())


def _calibrated_bias(z, target_ctr):
    """The b with mean(sigmoid(z + b)) == target_ctr, by bisection over a
    bracket wide enough for any z (strong signals put b beyond +-20)."""
    reach = float(np.abs(z).max()) + 40.0
    low, high = -reach, reach
    for _ in range(100):
        mid = (low + high) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(z + mid)))) < target_ctr:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def generate_arrays(spec):
    """(values (n, fields) int, labels (n,) int, tokens per field) for train+test."""
    values, labels, tokens, _ = _generate(spec)
    return values, labels, tokens


def planted_pairs(spec=SyntheticSpec()):
    """The ``num_pairs`` field pairs (f, g), 0-based field indices with f < g,
    whose factor dot product <u_f, u_g> is planted in the labels: what an FM's
    field x field interaction strength should find (experiments/explain.py).
    Field f is named str(f + 1) in the encoder. The 3-way parities (fields
    0-5) and the nonlinear term (6, 7) are not pairwise factors."""
    return _generate(spec)[3]


def _generate(spec):
    """``generate_arrays`` plus the planted pairs (see ``planted_pairs``)."""
    spec.validate()
    rng = np.random.default_rng(spec.seed)
    cards = _cardinalities(spec, rng)
    n = spec.num_train + spec.num_test
    values = np.stack([_zipf_draw(rng, c, n, spec.zipf_exponent) for c in cards], axis=1)
    # Rows of small fields are drawn uniformly so planted combinations are balanced.
    values[:, :8] = rng.integers(0, spec.interaction_cardinality, size=(n, 8))
    z = np.zeros(n)
    for f, card in enumerate(cards):
        z += spec.first_order_scale * rng.normal(size=card)[values[:, f]]
    latent = [rng.normal(size=(card, 4)) / 2.0 for card in cards]
    fields = rng.permutation(np.arange(8, spec.num_fields))
    pairs = []
    for p in range(spec.num_pairs):
        f, g = fields[2 * p], fields[2 * p + 1]
        pairs.append((int(min(f, g)), int(max(f, g))))
        z += spec.pairwise_scale * np.sum(latent[f][values[:, f]] * latent[g][values[:, g]], axis=1)
    # Balanced signs (half +1, half -1): then each pair of a parity's fields is
    # independent of it. Unbalanced signs would leak the parity into pairs.
    signs = [rng.permutation(np.resize([-1.0, 1.0], spec.interaction_cardinality)) for _ in range(6)]
    for group in ((0, 1, 2), (3, 4, 5)):
        parity = np.prod([signs[f][values[:, f]] for f in group], axis=0)
        z += spec.parity_strength * parity
    t6, t7 = (rng.normal(size=spec.interaction_cardinality) for _ in range(2))
    hinge = np.maximum(0.0, t6[values[:, 6]] + t7[values[:, 7]])
    z += spec.nonlinear_strength * (hinge - hinge.mean())
    z += _calibrated_bias(z, spec.target_ctr)
    labels = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(int)
    if spec.label_noise > 0:  # its own stream, so that label_noise=0 leaves the bytes as they were
        noise = np.random.default_rng([spec.seed, 1])
        replaced = noise.random(n) < spec.label_noise
        labels[replaced] = noise.random(int(replaced.sum())) < spec.target_ctr
    tokens = [np.array([f"{t:08x}" for t in rng.integers(0, 2**32, size=card)], dtype=object)
              for card in cards]
    return values, labels, tokens, pairs


def _write(path, values, labels, tokens):
    columns = [labels.astype(str).astype(object)] + [tokens[f][values[:, f]]
                                                     for f in range(values.shape[1])]
    rows = np.stack(columns, axis=1)
    with open(path, "w", newline="\n") as out:
        out.write("\n".join("\t".join(row) for row in rows))
        out.write("\n")


def generate_synthetic(out_dir, spec=SyntheticSpec()):
    """Write ``train.csv``, ``test.csv`` and ``spec.json`` into ``out_dir``.

    The files are complete or absent: each is written beside its name and
    renamed into place, and ``spec.json``, written last, marks a finished set,
    which later calls reuse. Processes generating the same folder at once
    (two trainings started together) write the same bytes, and none of them
    sees a half-written file.
    """
    os.makedirs(out_dir, exist_ok=True)
    marker = os.path.join(out_dir, "spec.json")
    wanted = dataclasses.asdict(spec)
    if os.path.exists(marker):
        with open(marker) as f:
            if json.load(f) == wanted:
                return out_dir
    values, labels, tokens = generate_arrays(spec)
    cut = spec.num_train
    for name, rows in (("train.csv", slice(None, cut)), ("test.csv", slice(cut, None))):
        atomic_write(os.path.join(out_dir, name),
                     lambda tmp, rows=rows: _write(tmp, values[rows], labels[rows], tokens))
    atomic_write_json(marker, wanted)
    return out_dir
