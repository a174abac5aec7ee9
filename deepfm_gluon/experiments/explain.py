"""What a trained model learned, in numbers: calibration, field importance,
field x field interactions (`deepfm-gluon explain`, and every run's report).

- Reliability: predicted vs observed click rate in ``ECE_BINS`` equal-mass
  bins (training/metrics.py), with counts, on the test (or given) data.
- Permutation importance (Breiman 2001; scikit-learn's
  ``permutation_importance``): the drop in AUC when one field's column is
  shuffled across rows, ``repeats`` times with seeded permutations; mean and
  standard deviation over the repeats. On the validation split (it describes
  the model; it chooses nothing, but the test set stays untouched).
- Interactions, for models whose spec names an FM factor table
  (``ModelSpec.interactions``): strength of fields (i, j) = mean over the
  data's rows of |<v_i, v_j>|, v_f the factor row of the row's value in
  field f. This is the size of the pair's term in the FM's logit.

All numbers are JSON-ready; figures are drawn by experiments/explain_figures.py.
"""
import functools

import numpy as np

from ..errors import DeepFMError
from ..models import get_spec
from ..training.metrics import (ECE_BINS, calibration_ratio, equal_mass_bins, expected_calibration_error,
                                roc_auc)

DEFAULT_REPEATS = 5
DEFAULT_MAX_ROWS = 50_000  # importance and interactions use a seeded sample of at most this many rows
CHUNK_ROWS = 4096


def select_fields(field_names, wanted=None, flag="--fields"):
    """Indices (list of int) of ``wanted`` (names; None: all) in ``field_names``;
    a name that does not exist is refused by name, with the known ones."""
    names = [str(n) for n in field_names]
    if not wanted:
        return list(range(len(names)))
    missing = [w for w in wanted if w not in names]
    if missing:
        shown = ", ".join(names[:50]) + (", ..." if len(names) > 50 else "")
        raise DeepFMError(f"{flag}: no field named {missing[0]!r}; the model's fields: {shown}")
    return [names.index(w) for w in wanted]


def sample_rows(n, max_rows, seed):
    """Sorted row indices: all ``n`` rows, or a seeded sample of ``max_rows``."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))


def reliability(labels, probs, bins=ECE_BINS):
    """Reliability-diagram numbers of 0/1 ``labels`` (n,) and ``probs`` (n,):
    per equal-mass bin the mean prediction, the observed click rate and the
    count, plus the ECE and calibration ratio they summarize."""
    predicted, observed, counts = equal_mass_bins(labels, probs, bins)
    return {"bins": [{"mean_predicted": float(p), "observed_rate": float(o), "count": int(c)}
                     for p, o, c in zip(predicted, observed, counts)],
            "bin_rule": f"{bins} equal-mass bins of the sorted predictions (ties kept together)",
            "examples": int(len(labels)), "ece": expected_calibration_error(labels, probs, bins),
            "calibration": calibration_ratio(labels, probs)}


def permutation_importance(predict, features, labels, field_names, fields=None, repeats=DEFAULT_REPEATS,
                           seed=0):
    """Drop in AUC per field when its column is shuffled.

    ``predict(features) -> probs``: the model on int (n, num_fields)
    features; ``labels`` 0/1 (n,); ``fields``: indices to score (None: all).
    Repeat r of field f permutes rows with numpy's generator seeded
    (seed, f, r). Returns {"base_auc", "repeats", "seed", "fields": [{"field",
    "index", "mean_drop", "std_drop", "drops"}]} in field order."""
    base = roc_auc(labels, predict(features))
    n, rows = len(labels), []
    for f in (range(features.shape[1]) if fields is None else fields):
        # every repeat of one field in one predict call: repeats * n rows
        shuffled = np.tile(features, (repeats, 1))
        for r in range(repeats):
            shuffled[r * n:(r + 1) * n, f] = features[np.random.default_rng([seed, f, r]).permutation(n), f]
        probs = predict(shuffled)
        drops = [base - roc_auc(labels, probs[r * n:(r + 1) * n]) for r in range(repeats)]
        rows.append({"field": str(field_names[f]), "index": int(f), "mean_drop": float(np.mean(drops)),
                     "std_drop": float(np.std(drops, ddof=1)) if repeats > 1 else 0.0,
                     "drops": [float(d) for d in drops]})
    return {"base_auc": base, "repeats": int(repeats), "seed": int(seed), "fields": rows}


def factor_table(net, kind):
    """The FM factor table block of a ``kind`` net (``spec.interactions``,
    a dotted child name), or None for a model without pairwise factors."""
    name = get_spec(kind).interactions
    return functools.reduce(getattr, name.split("."), net) if name else None


def interaction_strength(table, features, ctx=None):
    """(F, F) float64: entry (i, j) = mean over rows of |<v_i, v_j>|, the
    diagonal NaN. ``table``: the factor Embedding block (rows of the global
    feature ids); ``features`` int (n, F)."""
    import mxnet as mx  # start-up: explain only

    num_fields = features.shape[1]
    total = np.zeros((num_fields, num_fields))
    for start in range(0, len(features), CHUNK_ROWS):
        chunk = np.ascontiguousarray(features[start:start + CHUNK_ROWS], dtype=np.int32)
        v = table(mx.np.array(chunk, dtype=np.int32, ctx=ctx or mx.cpu())).asnumpy().astype(np.float64)
        total += np.abs(np.einsum("nik,njk->nij", v, v)).sum(0)
    strength = total / max(len(features), 1)
    np.fill_diagonal(strength, np.nan)
    return strength


def ranked_pairs(strength, field_names, fields=None):
    """[(name_i, name_j, value)] of the upper triangle restricted to
    ``fields`` (indices; None: all), strongest first."""
    fields = list(range(strength.shape[0])) if fields is None else list(fields)
    pairs = [(fields[a], fields[b]) for a in range(len(fields)) for b in range(a + 1, len(fields))]
    pairs.sort(key=lambda p: -strength[p])
    return [(str(field_names[i]), str(field_names[j]), float(strength[i, j])) for i, j in pairs]


def interactions(net, kind, features, field_names, fields=None):
    """The heatmap numbers of an FM-family net on int (n, F) ``features``, or
    None when the model has no FM factor table."""
    table = factor_table(net, kind)
    if table is None:
        return None
    strength = interaction_strength(table, features)
    fields = list(range(len(field_names))) if fields is None else list(fields)
    sub = strength[np.ix_(fields, fields)]
    return {"definition": "mean over rows of |<v_i, v_j>| (FM factor rows of the row's values)",
            "table": get_spec(kind).interactions, "examples": int(len(features)),
            "fields": [str(field_names[f]) for f in fields],
            "strength": [[None if np.isnan(x) else float(x) for x in row] for row in sub],
            "top_pairs": [{"fields": [a, b], "strength": s}
                          for a, b, s in ranked_pairs(strength, field_names, fields)[:20]]}


def explain_arrays(net, kind, field_names, scored, importance_set, predict, fields=None,
                   repeats=DEFAULT_REPEATS, seed=0, max_rows=DEFAULT_MAX_ROWS, bins=ECE_BINS):
    """Every explain number of ``net`` (a ``kind`` model).

    ``scored``: (features int (n, F), labels (n,), description) for the
    reliability diagram and the interactions; ``importance_set``: the same
    for permutation importance (the validation split); ``predict(features)
    -> probs``. ``fields``: names to restrict importance and interactions to
    (None: all; an unknown name is refused). Returns a JSON-ready dict."""
    chosen = select_fields(field_names, fields)
    features, labels, where = scored
    result = {"model": kind, "reliability": dict(reliability(labels, predict(features), bins), data=where)}
    imp_features, imp_labels, imp_where = importance_set
    rows = sample_rows(len(imp_labels), max_rows, seed)
    result["importance"] = dict(permutation_importance(predict, imp_features[rows], imp_labels[rows],
                                                       field_names, chosen, repeats, seed),
                                data=imp_where, examples=int(len(rows)))
    rows = sample_rows(len(labels), max_rows, seed)
    found = interactions(net, kind, features[rows], field_names, chosen)
    result["interactions"] = dict(found, data=where) if found else None
    return result
