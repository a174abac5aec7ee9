"""Curves as PNG files; no display needed (Agg canvas, no pyplot state)."""


def plot_histories(histories, path, title=None):
    """Train loss, test logloss and test AUC per epoch for one or more runs.

    ``histories`` maps a label to a History (or its dict); writes a PNG to
    ``path`` and returns ``path``.
    """
    # imported here to keep start-up fast: matplotlib costs ~0.5 s, paid only when a plot is written
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.6))
    FigureCanvasAgg(fig)
    panels = [("train_loss", "train loss"), ("test_logloss", "test logloss"), ("test_auc", "test AUC")]
    axes = fig.subplots(1, len(panels))
    for label, history in histories.items():
        epochs = history["epochs"] if isinstance(history, dict) else history.epochs
        xs = [r["epoch"] for r in epochs]
        for ax, (key, _) in zip(axes, panels):
            ax.plot(xs, [r[key] for r in epochs], marker=".", label=label)
    for ax, (_, name) in zip(axes, panels):
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    axes[-1].legend()
    if title:
        fig.suptitle(title)
    # fixed margins instead of tight_layout, which measures every label's text
    # extent first and used to cost about as much as drawing the figure
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.84 if title else 0.9, wspace=0.25)
    fig.savefig(path, dpi=100)
    return path
