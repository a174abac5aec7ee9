"""Every model of the zoo against its pytorch-fm twin, at book size and at
BARS size: training speed in the epoch, one run, interleaved, medians.

Each measurement is a fresh process (``suite.run_worker`` for ours, the
peers' scratch-venv Python running benchmarks/peers/torchfm_twin.py for
pytorch-fm), on the same encoded arrays, with the same hyperparameters
(our model's, passed to the twin as JSON), batch size and learning rate.

Sizes:
- book: the suite's synthetic book-size data (34 fields, 15,000 lines), each
  model with its own defaults (the book's for FM and DeepFM), batch 2048;
- bars: 39 fields x 65,536 rows (BARS Criteo_x1 with hashing), embedding 10,
  MLP 400x3, dropout 0.1 where the model has them, batch 4096, Adam 1e-3;
  random ids, a fixed number of batches (the slow peers would take hours
  over an epoch of 1M lines; the rate is per batch either way).
"""
import dataclasses
import json
import os
import statistics
import time
from typing import Optional

import numpy as np

from ..errors import DeepFMError
from .suite import BenchConfig, _child_env, machine_info, prepare_data, run_process, run_worker

TWINS = ("lr", "fm", "deepfm", "widedeep", "nfm", "dcnv2", "xdeepfm", "autoint")
TARGET_RATIO = 2.5
BARS = {"fields": 39, "rows_per_field": 65536, "batch_size": 4096, "lr": 1e-3,
        "model": {"num_factors": 10, "mlp_dims": [400, 400, 400], "drop_rate": 0.1}}
TWIN_LINE = "examples/sec train"


@dataclasses.dataclass
class ZooConfig:
    """One zoo run. ``peer_python``: the scratch venv's interpreter (torch,
    torchfm); ``twin_script``: benchmarks/peers/torchfm_twin.py; ``models``:
    names (default: every registered model with a twin)."""

    peer_python: Optional[str] = None
    twin_script: Optional[str] = None
    models: tuple = ()
    fuxictr_zoo: Optional[str] = None  # a reczoo/FuxiCTR checkout's model_zoo: adds its DeepFM at BARS size
    fuxictr_script: Optional[str] = None
    sizes: tuple = ("book", "bars")
    book_epochs: int = 1
    bars_batches: int = 8
    repeats: int = 2
    threads: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    data_dir: Optional[str] = None
    timeout_s: float = 3600.0


def bars_arrays(path, batches, seed=0):
    """``batches`` x 4096 random lines of 39 fields x 65,536 ids (global ids), saved as npz."""
    if os.path.exists(path):
        return path
    rng = np.random.default_rng(seed)
    rows, fields, per_field = batches * BARS["batch_size"], BARS["fields"], BARS["rows_per_field"]
    X = rng.integers(0, per_field, size=(rows, fields)) + np.arange(fields) * per_field
    y = rng.integers(0, 2, size=rows).astype(np.float32)
    tmp = path + ".tmp.npz"
    np.savez(tmp, X=X.astype(np.int64), y=y, field_dims=np.full(fields, per_field))
    os.replace(tmp, path)
    return path


def model_setup(name, size):
    """(model_config, batch_size, lr) of model ``name`` at ``size``: the
    model's own defaults at book size; BARS's shared values where it has them."""
    # start-up: the registry imports MXNet; the bench CLI does not need it for --help
    from ..models import get_spec
    spec = get_spec(name)
    config = spec.defaults()
    if size == "book":
        return config, 2048, spec.lr
    config.update({k: v for k, v in BARS["model"].items() if k in config})
    return config, BARS["batch_size"], BARS["lr"]


def twin_rate(zoo, npz, name, config, batch_size, lr, epochs, env):
    """The pytorch-fm twin's training examples/sec, from its one line."""
    cmd = [zoo.peer_python, zoo.twin_script, "--npz", npz, "--model", name, "--config", json.dumps(config),
           "--epochs", str(epochs), "--batch-size", str(batch_size), "--lr", str(lr),
           "--threads", str(zoo.threads)]
    return peer_rate(cmd, name, zoo, env)


def fuxictr_rate(zoo, npz, env):
    """FuxiCTR's DeepFM at BARS size (benchmarks/peers/fuxictr_deepfm.py)."""
    cmd = [zoo.peer_python, zoo.fuxictr_script, "--npz", npz, "--model-zoo", zoo.fuxictr_zoo,
           "--threads", str(zoo.threads)]
    return peer_rate(cmd, "FuxiCTR deepfm", zoo, env)


def peer_rate(cmd, name, zoo, env):
    """Run a peer process; its 'N examples/sec train' and its wall time."""
    start = time.perf_counter()
    stdout, _ = run_process(cmd, env, "", zoo.timeout_s)
    line = [ln for ln in stdout.splitlines() if TWIN_LINE in ln]
    if not line:
        raise DeepFMError(f"bench: the {name} peer printed no rate: {stdout.strip()[-200:]!r}")
    return {"examples_per_sec": float(line[-1].split(": ", 1)[1].split()[0]),
            "process_seconds": time.perf_counter() - start}


def run_zoo(zoo, log=print):
    """Both sides for every model and size, ``repeats`` times, interleaved;
    returns the report dict (``rows``: one per model and size)."""
    # start-up: the registry imports MXNet; the bench CLI does not need it for --help
    from ..models import model_names
    if not (zoo.peer_python and zoo.twin_script and os.path.isfile(zoo.twin_script)):
        raise DeepFMError("bench --zoo: pass --peer-python (a venv with torch and torchfm, "
                          "benchmarks/setup_peers.sh) and --twin-script benchmarks/peers/torchfm_twin.py")
    names = [n for n in (zoo.models or model_names()) if n in TWINS]
    unknown = sorted(set(zoo.sizes) - {"book", "bars"})
    if unknown or not zoo.sizes:
        raise DeepFMError(f"bench --zoo: --sizes takes book and/or bars, got {','.join(zoo.sizes) or 'nothing'}")
    suite = BenchConfig(threads=zoo.threads, data_dir=zoo.data_dir)
    paths = {"book": prepare_data(suite, log)["npz"]}
    base = os.path.dirname(paths["book"])
    paths["bars"] = bars_arrays(os.path.join(base, f"bars-{zoo.bars_batches}.npz"), zoo.bars_batches)
    env = _child_env(suite)
    load_start = list(os.getloadavg())
    results = {}
    for rep in range(zoo.repeats):
        for size in zoo.sizes:
            for name in names:
                config, batch, lr = model_setup(name, size)
                kw = {"npz_path": paths[size], "epochs": zoo.book_epochs if size == "book" else 1,
                      "batch_size": batch, "model": name, "model_config": config, "lr": lr}
                sides = [("ours", lambda: run_worker("ours_loop", kw, env, zoo.timeout_s)),
                         ("torchfm", lambda: twin_rate(zoo, paths[size], name, config, batch, lr,
                                                       kw["epochs"], env))]
                if zoo.fuxictr_zoo and size == "bars" and name == "deepfm":
                    sides.append(("fuxictr", lambda: fuxictr_rate(zoo, paths[size], env)))
                for side, job in (sides if rep % 2 == 0 else sides[::-1]):
                    result = job()
                    results.setdefault((name, size, side), []).append(result["examples_per_sec"])
                    log(f"  repeat {rep + 1}/{zoo.repeats} {size} {name} {side}: "
                        f"{result['examples_per_sec']:.0f} examples/sec")
    rows = []
    for size in zoo.sizes:
        for name in names:
            ours = statistics.median(results[(name, size, "ours")])
            peer = statistics.median(results[(name, size, "torchfm")])
            row = {"model": name, "size": size, "ours": ours, "torchfm": peer, "ratio": ours / peer,
                   "meets_target": ours / peer >= TARGET_RATIO}
            if (name, size, "fuxictr") in results:
                row["fuxictr"] = statistics.median(results[(name, size, "fuxictr")])
                row["ratio_fuxictr"] = ours / row["fuxictr"]
            rows.append(row)
    machine = machine_info(suite)
    machine.update(load_average_start=load_start, load_average_end=list(os.getloadavg()))
    return {"config": dataclasses.asdict(zoo), "machine": machine, "rows": rows, "target_ratio": TARGET_RATIO}


def format_zoo_report(report):
    """A markdown table: one line per model and size."""
    lines = ["| model | size | ours, examples/s | pytorch-fm twin, examples/s | ratio | >= 2.5x |",
             "|---|---|---:|---:|---:|---|"]
    for r in report["rows"]:
        lines.append(f"| {r['model']} | {r['size']} | {r['ours']:,.0f} | {r['torchfm']:,.0f} | "
                     f"{r['ratio']:.2f}x | {'yes' if r['meets_target'] else 'no'} |")
        if "fuxictr" in r:
            lines.append(f"| {r['model']} | {r['size']} | {r['ours']:,.0f} | FuxiCTR: {r['fuxictr']:,.0f} | "
                         f"{r['ratio_fuxictr']:.2f}x | {'yes' if r['ratio_fuxictr'] >= TARGET_RATIO else 'no'} |")
    m = report["machine"]
    lines.append("")
    lines.append(f"{m['date_utc']}, {m['cpu_model']}, {m['threads']} threads, load "
                 f"{m['load_average_start'][0]:.1f} -> {m['load_average_end'][0]:.1f}; "
                 f"book size: {report['config'].get('book_epochs', 1)} epoch(s) timed per side")
    return "\n".join(lines)
