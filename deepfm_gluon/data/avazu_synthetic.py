"""Synthetic data in Kaggle Avazu's raw layout, deterministic by seed (for tests).

A header line ``id,click,hour,C1,...,C21`` (data/sources/avazu.py), then one
line per impression: a 20-digit ``id`` (dropped by the source), ``click``
0/1, ``hour`` as YYMMDDHH over ten days from 14102100, and 21 categorical
columns: hex ids (Zipf-skewed, so the min-count threshold bites) and small
integers. Labels follow a logistic model of the hour of day, the weekday,
per-value weights and one pairwise interaction, with the bias solved for
``target_ctr``. ``bad_every`` replaces every k-th data line with a malformed
one (cycling: too few columns, label "2", blank).
"""
import dataclasses
import datetime
import os

import numpy as np

from .sources.avazu import CATEGORICAL, COLUMNS

BAD_KINDS = ("few", "label", "blank")
SMALL = {"C1": 7, "banner_pos": 7, "device_type": 5, "device_conn_type": 4, "C15": 8, "C16": 9, "C18": 4}


@dataclasses.dataclass(frozen=True)
class AvazuSyntheticSpec:
    num_rows: int = 10_000
    seed: int = 0
    max_cardinality: int = 500
    target_ctr: float = 0.17
    bad_every: int = 0


def _values(rng, column, card):
    if column in SMALL or column.startswith("C"):
        return np.array([str(v) for v in rng.integers(0, 30000, card)], dtype=object)
    return np.array([f"{v:08x}" for v in rng.integers(0, 2**32, card, dtype=np.uint64)], dtype=object)


def write_avazu_synthetic(path, spec=AvazuSyntheticSpec()):
    """Write the header and ``spec.num_rows`` data lines to ``path``; returns
    the 1-based physical line numbers (header = line 1) made malformed."""
    rng = np.random.default_rng([spec.seed, 0])
    n = spec.num_rows
    cols, z = {}, np.zeros(n)
    for column in CATEGORICAL:
        card = SMALL.get(column, int(rng.integers(4, spec.max_cardinality)))
        table = _values(rng, column, card)
        p = 1.0 / np.arange(1, card + 1) ** 1.1
        idx = rng.choice(card, size=n, p=p / p.sum())
        cols[column] = table[idx]
        z += rng.normal(0, 0.4, card)[idx]
    pair = rng.normal(0, 0.8, (SMALL["banner_pos"], SMALL["device_type"]))
    z += pair[np.searchsorted(np.unique(cols["banner_pos"]), cols["banner_pos"]),
              np.searchsorted(np.unique(cols["device_type"]), cols["device_type"])]
    day, hour = rng.integers(0, 10, n), rng.integers(0, 24, n)
    dates = [datetime.date(2014, 10, 21) + datetime.timedelta(days=int(d)) for d in range(10)]
    z += 0.6 * np.sin(hour / 24 * 2 * np.pi) + rng.normal(0, 0.5, 7)[[dates[d].weekday() for d in day]]
    order = np.argsort(day * 24 + hour, kind="stable")  # time order, as Kaggle's train
    hours = np.array([dates[d].strftime("%y%m%d") + f"{h:02d}" for d, h in zip(day, hour)], dtype=object)
    low, high = -20.0, 20.0
    for _ in range(50):
        mid = (low + high) / 2
        low, high = (mid, high) if np.mean(1 / (1 + np.exp(-(z + mid)))) < spec.target_ctr else (low, mid)
    clicks = (rng.random(n) < 1 / (1 + np.exp(-(z + (low + high) / 2)))).astype(int)
    ids = [str(v) + str(w) for v, w in zip(rng.integers(10**9, 10**10, n), rng.integers(10**9, 10**10, n))]
    lines, bad = [",".join(COLUMNS)], []
    for i in order:
        lines.append(",".join([ids[i], str(clicks[i]), hours[i]] + [cols[c][i] for c in CATEGORICAL]))
        if spec.bad_every and (len(lines) - 1) % spec.bad_every == 0:
            kind = BAD_KINDS[len(bad) % len(BAD_KINDS)]
            lines[-1] = {"few": ",".join(lines[-1].split(",")[:-2]), "blank": "",
                         "label": lines[-1].replace(f",{clicks[i]},", ",2,", 1)}[kind]
            bad.append(len(lines))
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", newline="\n") as out:
        out.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    return bad
