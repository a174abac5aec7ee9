"""The explain numbers (experiments/explain.py) as PNG figures; Agg canvas, no pyplot state."""
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

FILES = {"reliability": "reliability.png", "importance": "importance.png", "interactions": "interactions.png"}


def _figure(size):
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def plot_reliability(numbers, path, title=""):
    """Predicted vs observed click rate per bin (diagonal: calibrated), counts below."""
    bins = numbers["bins"]
    predicted = [b["mean_predicted"] for b in bins]
    observed = [b["observed_rate"] for b in bins]
    fig = _figure((5, 5.6))
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", label="calibrated")
    top.plot(predicted, observed, marker="o", label="model")
    top.set_ylabel("observed click rate")
    top.set_title(f"{title}reliability (ECE {numbers['ece']:.4f}, "
                  f"calibration {numbers['calibration']:.3f})", fontsize=9)
    top.legend(fontsize=8)
    top.grid(alpha=0.3)
    bottom.bar(predicted, [b["count"] for b in bins], width=0.02)
    bottom.set_xlabel("mean predicted click probability (equal-mass bins)")
    bottom.set_ylabel("count")
    bottom.set_xlim(0, 1)
    fig.subplots_adjust(left=0.15, right=0.97, top=0.93, bottom=0.1, hspace=0.08)
    fig.savefig(path, dpi=80)
    return path


def plot_importance(numbers, path, title="", top=30):
    """Horizontal bars: mean AUC drop per field with its std over repeats (the ``top`` largest)."""
    rows = sorted(numbers["fields"], key=lambda r: -r["mean_drop"])[:top][::-1]
    fig = _figure((6, 0.6 + 0.22 * max(len(rows), 4)))
    ax = fig.subplots()
    ax.barh([r["field"] for r in rows], [r["mean_drop"] for r in rows],
            xerr=[r["std_drop"] for r in rows], color="tab:blue")
    ax.set_xlabel(f"drop in AUC when the field is shuffled ({numbers['repeats']} repeats, ±1 std)")
    ax.set_title(f"{title}permutation importance (base AUC {numbers['base_auc']:.4f})", fontsize=9)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(alpha=0.3, axis="x")
    # fixed margins, not tight_layout (which measures every label first: as slow as drawing)
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.16, right=0.97, bottom=0.6 / height, top=1 - 0.35 / height)
    fig.savefig(path, dpi=80)
    return path


def draw_interactions(ax, strength, names, marked=(), title=""):
    """Draw a field x field strength matrix ((F, F), NaN diagonal) on ``ax``
    with field names on both axes; ``marked``: (name, name) pairs outlined in
    red (e.g. the synthetic data's planted pairs). Returns the image (for a colorbar)."""
    from matplotlib.patches import Rectangle  # start-up: with the figure only

    image = ax.imshow(np.asarray(strength, dtype=float), cmap="viridis")
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
    ax.set_yticks(range(len(names)), names, fontsize=6)
    index = {name: i for i, name in enumerate(names)}
    for a, b in marked:
        for i, j in ((index[a], index[b]), (index[b], index[a])):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.2))
    ax.set_title(title or "field x field interaction strength, mean |<v_i, v_j>|", fontsize=9)
    return image


def plot_interactions(numbers, path, title=""):
    """Field x field heatmap of mean |<v_i, v_j>|, field names on both axes."""
    names = numbers["fields"]
    values = [[np.nan if x is None else x for x in row] for row in numbers["strength"]]
    size = min(9.0, 2.5 + 0.18 * len(names))
    fig = _figure((size + 1.2, size))
    ax = fig.subplots()
    image = draw_interactions(ax, values, names,
                              title=f"{title}field x field interaction strength, mean |<v_i, v_j>|")
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.08, top=0.95)
    fig.savefig(path, dpi=80)
    return path


def write_figures(result, out_dir, title=""):
    """The PNGs of an ``explain_arrays`` result in ``out_dir``: {part: path}."""
    os.makedirs(out_dir, exist_ok=True)
    written = {"reliability": plot_reliability(result["reliability"], os.path.join(out_dir, FILES["reliability"]),
                                               title),
               "importance": plot_importance(result["importance"], os.path.join(out_dir, FILES["importance"]),
                                             title)}
    if result.get("interactions"):
        written["interactions"] = plot_interactions(result["interactions"],
                                                    os.path.join(out_dir, FILES["interactions"]), title)
    return written
