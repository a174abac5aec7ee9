"""Self-contained HTML pages: one per run (report.html beside the model) and
one per comparison (the models side by side).

Everything a page shows is inside the file: PNG figures embedded as base64
data URIs, inline CSS, no script, no web font, no link fetched at view time,
so a page opens from disk, from an e-mail or from a CI artifact alike.
"""
import base64
import html
import json
import math
import os

from ..atomic import atomic_write_text
from ..training.metrics import METRICS, unprefixed

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.3em; vertical-align: top; }
.side { display: flex; flex-wrap: wrap; gap: 1em; } .side > div { flex: 1 1 380px; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.8em; }
.note { color: #555; font-size: 0.9em; }
"""


def esc(value):
    return html.escape(str(value), quote=True)


def image(path, alt):
    """An <img> holding the PNG at ``path`` as a data URI ('' when the file is absent)."""
    if not path or not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def cell(value):
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return "-" if value is None else esc(value)


def table(rows, columns):
    """An HTML table of dict ``rows`` with ``columns`` (keys, shown as headers)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def metrics_rows(named_scores):
    """Rows of a metrics table: one per metric of METRICS, one column per
    name in ``named_scores`` ({column name: {metric name: value}})."""
    return [{"metric": m.label, "better": m.direction(),
             **{name: scores.get(m.name) for name, scores in named_scores.items()}} for m in METRICS]


def epoch_rows(history):
    """Per-epoch rows (epoch, train loss, test and validation metrics) of a History dict."""
    columns = ["epoch", "train_loss", *(f"test_{m.name}" for m in METRICS), *(f"val_{m.name}" for m in METRICS)]
    present = [c for c in columns if any(c in r for r in history["epochs"])]
    return [{c: r.get(c) for c in present} for r in history["epochs"]], present


def page(title, sections):
    """A whole HTML document: ``sections`` are (heading, html) pairs."""
    body = "".join(f"<h2>{esc(h)}</h2>\n{content}\n" for h, content in sections)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>\n{body}</body></html>\n")


def explain_section(explain, figures):
    """Reliability, importance and interaction figures with their key numbers."""
    if not explain:
        return "<p class=\"note\">no explain figures</p>"
    parts = [image(figures.get("reliability"), "reliability diagram"),
             image(figures.get("importance"), "permutation importance"),
             image(figures.get("interactions"), "interaction heatmap")]
    rel, imp = explain["reliability"], explain["importance"]
    notes = [f"reliability on {esc(rel.get('data', ''))}: {rel['examples']} examples, {esc(rel['bin_rule'])}",
             f"permutation importance on {esc(imp.get('data', ''))}: {imp['examples']} examples, "
             f"{imp['repeats']} repeats, seed {imp['seed']}"]
    if explain.get("interactions"):
        top = explain["interactions"]["top_pairs"][:5]
        notes.append("strongest field pairs: " + ", ".join(
            f"{esc(p['fields'][0])} x {esc(p['fields'][1])} ({p['strength']:.4f})" for p in top))
    return "".join(parts) + "<ul>" + "".join(f"<li>{n}</li>" for n in notes) + "</ul>"


def run_page(model_dir, history, meta, explain=None, figures=None):
    """The HTML of one run: metrics, curves, explain figures, configuration, data."""
    chosen = history.get("chosen") or {}
    final = unprefixed(chosen or (history["epochs"][-1] if history["epochs"] else {}), "test_")
    which = f"epoch {chosen['epoch']} (restored by early stopping)" if chosen else "final epoch"
    rows, columns = epoch_rows(history)
    config = {"model": meta.get("kind"), "model_config": {k: v for k, v in meta.get("model_config", {}).items()
                                                          if k != "field_dims"},
              "mode": meta.get("mode"), "train_config": meta.get("train_config")}
    field_dims = meta.get("model_config", {}).get("field_dims", [])
    data = {"data": meta.get("data"), "validation": meta.get("validation_cut"), "fields": len(field_dims),
            "embedding rows": int(sum(field_dims)), "skip reports": meta.get("skip_reports")}
    named = {"test": meta.get("test_metrics") or final}
    if meta.get("uncalibrated_test_metrics"):  # train --calibrate: the served model is the calibrated one
        named = {f"test, {meta.get('calibration')} calibrated": named["test"],
                 "test, uncalibrated": meta["uncalibrated_test_metrics"]}
    sections = [
        ("Test metrics", f"<p>{esc(which)}</p>" + table(metrics_rows(named), ["metric", "better", *named])),
        ("Training curves", image(os.path.join(model_dir, "curves.png"), "training curves")
         + f"<div style=\"overflow-x: auto\">{table(rows, columns)}</div>"),
        ("What the model learned", explain_section(explain, figures or {})),
        ("Configuration", f"<pre>{esc(json.dumps(config, indent=1))}</pre>"),
        ("Data", f"<pre>{esc(json.dumps(data, indent=1))}</pre>"),
    ]
    return page(f"{meta.get('kind')} on {meta.get('data')}: {os.path.basename(os.path.abspath(model_dir))}",
                sections)


def side_by_side_page(title, models, curves=None, notes="", heading="Test metrics", extra=()):
    """The HTML of a comparison. ``models``: {name: {"metrics": {metric:
    value}, "explain": dict or None, "figures": {part: png path}}};
    ``curves``: a PNG of all models' curves; ``heading``: of the metrics
    table; ``extra``: more (heading, html) sections at the end."""
    sections = [(heading, (f"<p class=\"note\">{esc(notes)}</p>" if notes else "")
                 + table(metrics_rows({n: m["metrics"] for n, m in models.items()}),
                         ["metric", "better", *models]))]
    if curves:
        sections.append(("Curves", image(curves, "curves")))
    if any(m.get("explain") for m in models.values()):
        figures = "".join(f"<div><h3>{esc(n)}</h3>{explain_section(m.get('explain'), m.get('figures', {}))}</div>"
                          for n, m in models.items())
        sections.append(("What each model learned", f"<div class=\"side\">{figures}</div>"))
    return page(title, [*sections, *extra])


def write_page(path, text):
    atomic_write_text(path, text)
    return path
