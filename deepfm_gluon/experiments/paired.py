"""The paired comparison of two models across seeds: one test, used by
`reproduce` (DeepFM against FM) and `compare --seeds N` (each model against
the first one listed)."""
import math

import numpy as np
from scipy import stats


def paired_difference(model, baseline):
    """``model`` and ``baseline``: one score per seed (same seeds and data, in
    order). Returns the mean and std of model - baseline, the seeds where the
    model is ahead, the paired t-test's p (nan for one seed or no spread) and
    ``better``: ahead on average and significant at 0.05 (with no p: ahead
    on every seed)."""
    model, baseline = np.asarray(model, dtype=float), np.asarray(baseline, dtype=float)
    diff = model - baseline
    p_value = float(stats.ttest_rel(model, baseline).pvalue) if len(diff) > 1 and np.std(diff) > 0 \
        else float("nan")
    better = bool(diff.mean() > 0 and (p_value < 0.05 if not math.isnan(p_value) else (diff > 0).all()))
    return {"auc_diff_mean": float(diff.mean()),
            "auc_diff_std": float(diff.std(ddof=1)) if len(diff) > 1 else 0.0,
            "wins": int((diff > 0).sum()), "seeds": len(diff), "paired_t_p": p_value, "better": better}
