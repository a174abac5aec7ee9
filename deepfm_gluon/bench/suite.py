"""The benchmark suite: the book's pipeline, the package and the PyTorch
peer on the same data, in one run, interleaved, medians reported.

Each measurement runs in its own worker process (``worker``), in a rotating
order per repeat, so that on a shared machine no pipeline always gets the
quiet (or the busy) slot. All workers get the same OpenMP settings.

Each peer runs as its users run it: the book's pipeline with the book's own
DataLoader worker count (and with ``num_workers=0``, both reported), and
every end-to-end measurement also reports its whole-process wall time (what
a user waits for: interpreter start-up and imports included) beside the
in-process figures.
"""
import dataclasses
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Optional

import numpy as np

from ..errors import DeepFMError
from .worker import PEAK_PREFIX, RESULT_PREFIX

TARGETS = {
    "train_vs_book": 30.0,
    "train_vs_torch": 1.5,
    "predict_ours": 1e6,
    "encode_vs_d2l": 20.0,
}
TORCH_LINE = re.compile(r"torch (\w+): ([0-9.]+) examples/sec train, ([0-9.]+) examples/sec predict")


@dataclasses.dataclass
class BenchConfig:
    """Sizes and settings of one suite run; ``quick()`` is the CI-size one."""

    train_rows: int = 15000
    test_rows: int = 3000
    epochs: int = 3
    batch_size: int = 2048
    repeats: int = 3
    predict_rows: int = 262144
    predict_batch: int = 8192
    encode_rows: int = 1_000_000
    d2l_encode_rows: int = 100_000
    threads: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    omp_wait_policy: str = "passive"
    data_dir: Optional[str] = None
    torch_python: Optional[str] = None
    torch_peer: Optional[str] = None
    ablations: bool = False
    seed: int = 0
    timeout_s: float = 3600.0

    @classmethod
    def quick(cls, **overrides):
        small = dict(train_rows=600, test_rows=200, epochs=1, batch_size=128, repeats=1,
                     predict_rows=16384, encode_rows=3000, d2l_encode_rows=500)
        return cls(**{**small, **overrides})

    def validate(self):
        for name in ("train_rows", "test_rows", "epochs", "batch_size", "repeats",
                     "predict_rows", "predict_batch", "encode_rows", "d2l_encode_rows", "threads"):
            if getattr(self, name) < 1:
                raise DeepFMError(f"bench: {name.replace('_', '-')} must be positive")
        if self.omp_wait_policy not in ("passive", "active", "default"):
            raise DeepFMError("bench: omp wait policy must be passive, active or default")
        if self.torch_python and not (self.torch_peer and os.path.isfile(self.torch_peer)):
            raise DeepFMError(f"bench: torch peer script {self.torch_peer!r} not found "
                              "(pass --torch-peer PATH/torch_deepfm.py)")
        if self.test_rows < self.batch_size:
            raise DeepFMError("bench: test-rows must be at least batch-size: the book's "
                              "rollover test loader yields no batch otherwise")
        if self.d2l_encode_rows > self.encode_rows:
            raise DeepFMError("bench: d2l-encode-rows cannot exceed encode-rows")


# ----------------------------------------------------------------------------- data

def prepare_data(config, log=print):
    """Synthetic book-shaped files (cached by spec), the encoded arrays the
    model-only loops share (npz: X int64 with offsets, y, field_dims), and the
    encoding files: ``encode_rows`` lines and the first ``d2l_encode_rows``."""
    # start-up: imported where used, so each timed process loads only what it measures
    from ..data.ctr_dataset import CTRDataset
    from ..data.download import default_data_dir
    from ..data.synthetic import SyntheticSpec, generate_synthetic
    base = os.path.join(config.data_dir or default_data_dir(), "bench")
    spec = SyntheticSpec(num_train=config.train_rows, num_test=config.test_rows, seed=config.seed)
    train_dir = generate_synthetic(os.path.join(base, spec.key()), spec)
    train = CTRDataset(os.path.join(train_dir, "train.csv"))
    npz = os.path.join(train_dir, "encoded.npz")
    np.savez(npz, X=train.features.astype(np.int64), y=train.labels.astype(np.float32),
             field_dims=train.field_dims)
    predict_npz = os.path.join(train_dir, f"predict-{config.predict_rows}.npz")
    reps = -(-config.predict_rows // len(train.features))
    np.savez(predict_npz, X=np.tile(train.features, (reps, 1))[:config.predict_rows],
             y=np.zeros(config.predict_rows, np.float32), field_dims=train.field_dims)
    log(f"bench data: {len(train)} train lines, {int(train.field_dims.sum())} features ({train_dir})")
    enc_spec = SyntheticSpec(num_train=config.encode_rows, num_test=1, seed=config.seed)
    enc_dir = generate_synthetic(os.path.join(base, enc_spec.key()), enc_spec)
    enc_path = os.path.join(enc_dir, "train.csv")
    subset = os.path.join(enc_dir, f"first-{config.d2l_encode_rows}.csv")
    if not os.path.exists(subset):
        with open(enc_path) as src:
            head = [next(src) for _ in range(config.d2l_encode_rows)]
        tmp = subset + ".tmp"
        with open(tmp, "w") as out:
            out.writelines(head)
        os.replace(tmp, subset)
    return {"train": os.path.join(train_dir, "train.csv"), "test": os.path.join(train_dir, "test.csv"),
            "npz": npz, "predict_npz": predict_npz, "encode": enc_path, "encode_d2l": subset}


# ----------------------------------------------------------------------------- processes

def _child_env(config, threads=None, policy=None):
    """Same variables for every worker: thread count and OpenMP wait policy
    (read once when the OpenMP runtime loads, so they must be set here)."""
    env = dict(os.environ)
    threads = threads or config.threads
    policy = policy or config.omp_wait_policy
    env["OMP_NUM_THREADS"] = str(threads)
    env["MKL_NUM_THREADS"] = str(threads)
    env.pop("OMP_WAIT_POLICY", None)
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy.upper()
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def run_process(cmd, env, stdin_text="", timeout_s=3600.0):
    """Run ``cmd``; returns (stdout, stderr)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=err, env=env, text=True)
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        try:
            proc.stdin.write(stdin_text)
            proc.stdin.close()
            status = os.waitpid(proc.pid, 0)[1]
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        tail = "\n".join(stderr.strip().splitlines()[-5:])
        raise DeepFMError(f"bench: {' '.join(cmd[:3])} ... exited with {proc.returncode}:\n{tail}")
    return stdout, stderr


def run_worker(task, kwargs, env, timeout_s):
    """One task in a fresh ``python -m deepfm_gluon.bench.worker``; its result
    dict plus ``process_seconds``, the wall time of the whole process."""
    cmd = [sys.executable, "-m", "deepfm_gluon.bench.worker"]
    start = time.perf_counter()
    stdout, _ = run_process(cmd, env, json.dumps({"task": task, "kwargs": kwargs}), timeout_s)
    seconds = time.perf_counter() - start
    lines = [ln for ln in stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if not lines:
        raise DeepFMError(f"bench: task {task} printed no result")
    return {**json.loads(lines[-1][len(RESULT_PREFIX):]), "process_seconds": seconds}


# Runs the peer script as __main__ and prints its peak RSS (VmHWM) when it
# exits; self-contained, as the peer's Python has no MXNet to import us with.
_PEER_WRAPPER = (
    "import atexit, runpy, sys\n"
    "def _peak():\n"
    "    hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
    "    print('" + PEAK_PREFIX + "' + (hwm[0] if hwm else '0'), flush=True)\n"
    "atexit.register(_peak)\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n")


def run_torch(config, npz, epochs, env):
    """The PyTorch peer on the same encoded arrays, as its users run it (one
    ``python torch_deepfm.py ...`` process); its one line parsed, plus the
    process's wall time (``process_seconds``)."""
    cmd = [config.torch_python, "-c", _PEER_WRAPPER, config.torch_peer, "--npz", npz,
           "--epochs", str(epochs), "--batch-size", str(config.batch_size),
           "--threads", str(config.threads)]
    start = time.perf_counter()
    stdout, _ = run_process(cmd, env, "", config.timeout_s)
    seconds = time.perf_counter() - start
    match = TORCH_LINE.search(stdout)
    if not match:
        raise DeepFMError(f"bench: could not read the torch peer's output: {stdout.strip()[-200:]!r}")
    peak = [ln for ln in stdout.splitlines() if ln.startswith(PEAK_PREFIX)]
    return {"train_examples_per_sec": float(match.group(2)),
            "predict_examples_per_sec": float(match.group(3)), "process_seconds": seconds,
            "peak_rss_mib": (float(peak[-1][len(PEAK_PREFIX):]) / 1024) or None if peak else None}


def torch_available(python):
    """True when ``python`` can import torch (the peer is optional)."""
    if not python:
        return False
    try:
        return subprocess.run([python, "-c", "import torch"], capture_output=True,
                              timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# ----------------------------------------------------------------------------- suite

def build_jobs(config, paths, with_torch):
    """(label, callable) per measurement; each call returns one result dict."""
    env = _child_env(config)
    t = config.timeout_s
    train_kw = {"train_path": paths["train"], "test_path": paths["test"], "epochs": config.epochs,
                "batch_size": config.batch_size, "seed": config.seed}
    jobs = [
        # The book's own DataLoader worker count (d2l.get_dataloader_workers()), and none.
        ("book_e2e", lambda: run_worker("book_e2e", train_kw, env, t)),
        ("book_e2e_workers0", lambda: run_worker("book_e2e", {**train_kw, "num_workers": 0}, env, t)),
        ("ours_e2e", lambda: run_worker("ours_e2e", train_kw, env, t)),
        ("ours_loop", lambda: run_worker("ours_loop", {
            "npz_path": paths["npz"], "epochs": config.epochs, "batch_size": config.batch_size,
            "seed": config.seed}, env, t)),
        ("predict", lambda: run_worker("predict", {
            "npz_path": paths["predict_npz"], "rows": config.predict_rows,
            "batch_size": config.predict_batch}, env, t)),
        ("encode_ours", lambda: run_worker("encode_ours", {"path": paths["encode"]}, env, t)),
        ("encode_d2l", lambda: run_worker("encode_d2l", {"path": paths["encode_d2l"]}, env, t)),
    ]
    if with_torch:
        jobs += [("torch_loop", lambda: run_torch(config, paths["npz"], config.epochs, env)),
                 ("torch_predict", lambda: run_torch(config, paths["predict_npz"], 0, env))]
    if config.ablations:
        jobs += ablation_jobs(config, paths)
    return jobs


def ablation_jobs(config, paths):
    """The 'ways in' that are settings, measured on the package's loop."""
    loop_kw = {"npz_path": paths["npz"], "epochs": config.epochs,
               "batch_size": config.batch_size, "seed": config.seed}
    jobs = []
    for policy in ("active", "passive"):
        for threads in sorted({1, config.threads}):
            env = _child_env(config, threads=threads, policy=policy)
            jobs.append((f"ablation_loop_omp{threads}_{policy}",
                         lambda env=env: run_worker("ours_loop", loop_kw, env, config.timeout_s)))
    env = _child_env(config)
    for batch in sorted({max(1, config.predict_batch // 4), config.predict_batch,
                         4 * config.predict_batch}):
        kw = {"npz_path": paths["predict_npz"], "rows": config.predict_rows, "batch_size": batch,
              "book": False}
        jobs.append((f"ablation_predict_batch{batch}",
                     lambda kw=kw: run_worker("predict", kw, env, config.timeout_s)))
    return jobs


def machine_info(config):
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            names = [ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")]
        model = names[0] if names else model
    except OSError:
        pass
    # start-up: imported where used, so each timed process loads only what it measures
    import mxnet as mx
    features = mx.runtime.Features()
    return {"cpu_model": model, "cpus": os.cpu_count(), "threads": config.threads,
            "omp_wait_policy": config.omp_wait_policy, "python": platform.python_version(),
            "mxnet": mx.__version__,
            "mxnet_build": {k: features.is_enabled(k) for k in
                            ("CPU_SSE4_2", "CPU_AVX", "CPU_AVX2", "F16C", "MKLDNN", "BLAS_OPEN",
                             "BLAS_MKL", "OPENMP") if k in features.keys()},
            "load_average_start": list(os.getloadavg()),
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def warm_start_up_cache(config):
    """One ``import deepfm_gluon, mxnet`` before anything is timed: it writes
    the MXNet op-function cache (deepfm_gluon/startup/op_cache.py) if this
    installation has none yet, so every timed process starts as a user's
    second and later processes do, whatever the job order."""
    run_process([sys.executable, "-c", "import deepfm_gluon, mxnet"], _child_env(config), "", config.timeout_s)


def run_suite(config, log=print):
    """Run every measurement ``repeats`` times, interleaved; returns the report dict."""
    config.validate()
    with_torch = torch_available(config.torch_python)
    if config.torch_python and not with_torch:
        log(f"bench: {config.torch_python} cannot import torch; the peer is skipped")
    paths = prepare_data(config, log)
    warm_start_up_cache(config)
    load_start = list(os.getloadavg())
    jobs = build_jobs(config, paths, with_torch)
    runs = {label: [] for label, _ in jobs}
    for rep in range(config.repeats):
        shift = rep % len(jobs)
        for label, job in jobs[shift:] + jobs[:shift]:
            runs[label].append(job())
            log(f"  repeat {rep + 1}/{config.repeats} {label}: {_brief(runs[label][-1])}")
    machine = machine_info(config)
    machine.update(load_average_start=load_start, load_average_end=list(os.getloadavg()))
    summary = summarize(runs)
    return {"config": dataclasses.asdict(config), "machine": machine, "torch": with_torch,
            "runs": runs, "summary": summary, "targets": check_targets(summary)}


def _brief(result):
    keys = [k for k in result if k.endswith("_per_sec")]
    return ", ".join(f"{k} {result[k]:.0f}" for k in keys)


def _median(runs, label, key):
    values = [r[key] for r in runs.get(label, []) if key in r]
    return float(statistics.median(values)) if values else None


def summarize(runs):
    """Medians per measurement, plus the ratios the targets are about."""
    m = lambda label, key: _median(runs, label, key)  # noqa: E731
    s = {
        "train_e2e_book": m("book_e2e", "examples_per_sec"),
        "train_e2e_book_workers0": m("book_e2e_workers0", "examples_per_sec"),
        "book_dataloader_workers": m("book_e2e", "num_workers"),
        "train_e2e_ours": m("ours_e2e", "examples_per_sec"),
        "train_loop_ours": m("ours_loop", "examples_per_sec"),
        "train_loop_torch": m("torch_loop", "train_examples_per_sec"),
        "predict_book": m("predict", "book_examples_per_sec"),
        "predict_ours": m("predict", "ours_examples_per_sec"),
        "predict_ours_folded": m("predict", "ours_folded_examples_per_sec"),
        "predict_torch": m("torch_predict", "predict_examples_per_sec"),
        "predict_max_abs_diff_vs_book": m("predict", "max_abs_diff_vs_book"),
        "encode_d2l": m("encode_d2l", "rows_per_sec"),
        "encode_ours": m("encode_ours", "rows_per_sec"),
        "rss_book_e2e": m("book_e2e", "peak_rss_mib"),
        "rss_ours_e2e": m("ours_e2e", "peak_rss_mib"),
        "rss_ours_loop": m("ours_loop", "peak_rss_mib"),
        "rss_torch_loop": m("torch_loop", "peak_rss_mib"),
        "rss_encode_ours": m("encode_ours", "peak_rss_mib"),
        "rss_encode_d2l": m("encode_d2l", "peak_rss_mib"),
        "process_seconds_book": m("book_e2e", "process_seconds"),
        "process_seconds_book_workers0": m("book_e2e_workers0", "process_seconds"),
        "process_seconds_ours": m("ours_e2e", "process_seconds"),
        "process_seconds_ours_loop": m("ours_loop", "process_seconds"),
        "process_seconds_torch": m("torch_loop", "process_seconds"),
        "seconds_book": m("book_e2e", "seconds"),
        "seconds_book_workers0": m("book_e2e_workers0", "seconds"),
        "seconds_ours": m("ours_e2e", "seconds"),
    }
    # The book's pipeline in whichever worker setting was faster: the ratios
    # against it are the stricter ones.
    pairs = [(s["train_e2e_book"], s["process_seconds_book"]),
             (s["train_e2e_book_workers0"], s["process_seconds_book_workers0"])]
    s["train_e2e_book_best"] = max((rate for rate, _ in pairs if rate), default=None)
    s["process_seconds_book_best"] = min((sec for _, sec in pairs if sec), default=None)
    ratio = lambda a, b: s[a] / s[b] if s[a] and s[b] else None  # noqa: E731
    s["train_vs_book"] = ratio("train_e2e_ours", "train_e2e_book_best")
    s["train_vs_book_own_workers"] = ratio("train_e2e_ours", "train_e2e_book")
    s["process_vs_book"] = ratio("process_seconds_book_best", "process_seconds_ours")
    s["process_vs_torch"] = ratio("process_seconds_torch", "process_seconds_ours")
    s["process_loop_vs_torch"] = ratio("process_seconds_torch", "process_seconds_ours_loop")
    s["train_vs_torch"] = ratio("train_e2e_ours", "train_loop_torch")
    s["loop_vs_torch"] = ratio("train_loop_ours", "train_loop_torch")
    s["predict_vs_book"] = ratio("predict_ours", "predict_book")
    s["predict_vs_torch"] = ratio("predict_ours", "predict_torch")
    s["predict_folded_vs_book"] = ratio("predict_ours_folded", "predict_book")
    s["predict_folded_vs_torch"] = ratio("predict_ours_folded", "predict_torch")
    s["encode_vs_d2l"] = ratio("encode_ours", "encode_d2l")
    s["ablations"] = {label: m(label, "examples_per_sec") or m(label, "ours_examples_per_sec")
                      for label in runs if label.startswith("ablation_")}
    return s


def check_targets(summary):
    """Each target with the measured value and whether it was met (None: not measured)."""
    out = {}
    for key, target in TARGETS.items():
        value = summary.get(key)
        out[key] = {"target": target, "value": value,
                    "met": None if value is None else bool(value >= target)}
    return out


# ----------------------------------------------------------------------------- output

def _num(value, unit=""):
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "MiB":
        return f"{value:.0f}"
    if unit == "s":
        return f"{value:.2f}"
    return f"{value:,.0f}"


def format_report(report):
    """The results as plain-text tables (what the CLI prints, what docs paste)."""
    s, cfg, mach = report["summary"], report["config"], report["machine"]
    workers = s.get("book_dataloader_workers")
    workers = "-" if workers is None else f"{workers:.0f}"
    rows = [
        (f"train end to end, examples/s (book: its {workers} DataLoader workers)",
         s["train_e2e_book"], s["train_e2e_ours"], s["train_loop_torch"],
         s.get("train_vs_book_own_workers"), s["train_vs_torch"]),
        ("train end to end, examples/s (book: num_workers=0)", s.get("train_e2e_book_workers0"),
         s["train_e2e_ours"], None, _safe_ratio(s["train_e2e_ours"], s.get("train_e2e_book_workers0")),
         None),
        (f"whole process, s (book: its {workers} workers)", s.get("process_seconds_book"),
         s.get("process_seconds_ours"), s.get("process_seconds_torch"),
         _safe_ratio(s.get("process_seconds_book"), s.get("process_seconds_ours")),
         s.get("process_vs_torch")),
        ("whole process, s (book: num_workers=0)", s.get("process_seconds_book_workers0"),
         s.get("process_seconds_ours"), None,
         _safe_ratio(s.get("process_seconds_book_workers0"), s.get("process_seconds_ours")), None),
        ("whole process, s, model loop only (pre-encoded arrays)", None,
         s.get("process_seconds_ours_loop"), s.get("process_seconds_torch"), None,
         s.get("process_loop_vs_torch")),
        ("train model loop only, examples/s", None, s["train_loop_ours"], s["train_loop_torch"],
         None, s["loop_vs_torch"]),
        (f"predict batch {cfg['predict_batch']}, examples/s", s["predict_book"], s["predict_ours"],
         s["predict_torch"], s["predict_vs_book"], s["predict_vs_torch"]),
        (f"predict batch {cfg['predict_batch']}, --engine folded, examples/s", None,
         s.get("predict_ours_folded"), None, s.get("predict_folded_vs_book"), s.get("predict_folded_vs_torch")),
        ("encode, rows/s (d2l: CTRDataset)", s["encode_d2l"], s["encode_ours"], None,
         s["encode_vs_d2l"], None),
        ("peak RSS train e2e, MiB (torch: loop)", s["rss_book_e2e"], s["rss_ours_e2e"],
         s["rss_torch_loop"], None, None),
        ("peak RSS encode, MiB", s["rss_encode_d2l"], s["rss_encode_ours"], None, None, None),
    ]
    header = ("measurement", "book/d2l", "ours", "torch peer", "ours/book", "ours/torch")
    body = []
    for name, book, ours, torch, r_book, r_torch in rows:
        unit = "MiB" if "MiB" in name else ("s" if name.startswith("whole process, s") else "")
        body.append((name, _num(book, unit), _num(ours, unit), _num(torch, unit),
                     _num(r_book, "x"), _num(r_torch, "x")))
    lines = [_table(header, body)]
    lines.append("")
    lines.append(f"{cfg['train_rows']} train / {cfg['test_rows']} test rows, {cfg['epochs']} epochs, "
                 f"batch {cfg['batch_size']}, {cfg['repeats']} interleaved repeats (medians); "
                 f"encode: ours {cfg['encode_rows']} rows, d2l first {cfg['d2l_encode_rows']} rows; "
                 f"predict {cfg['predict_rows']} rows; torch peer: "
                 f"{'model loop on the same encoded arrays' if report['torch'] else 'not run'}")
    lines.append(f"{mach['cpu_model']}, {mach['cpus']} CPUs, OMP_NUM_THREADS={mach['threads']}, "
                 f"OMP_WAIT_POLICY={mach['omp_wait_policy']}, mxnet {mach['mxnet']} "
                 f"(built with: {', '.join(k for k, v in mach['mxnet_build'].items() if v)}; "
                 f"without: {', '.join(k for k, v in mach['mxnet_build'].items() if not v)}), load average {mach['load_average_start'][0]:.1f} "
                 f"-> {mach['load_average_end'][0]:.1f}, {mach['date_utc']}")
    lines.append("whole process: wall time of the `python ...` process that trains (start-up, imports, "
                 "data, training, evaluation); torch: its process, which trains on pre-encoded "
                 "arrays and then predicts once; ratios are book (or torch) seconds / ours. "
                 "Target 'train e2e vs book': against the faster book setting")
    diff = s.get("predict_max_abs_diff_vs_book")
    if diff is not None:
        lines.append(f"ours vs the book Block, same weights: max |difference| {diff:.2e}")
    lines.append("")
    target_rows = []
    names = {"train_vs_book": "train e2e vs book", "train_vs_torch": "train e2e vs torch loop",
             "predict_ours": "predict examples/s", "encode_vs_d2l": "encode vs d2l"}
    for key, t in report["targets"].items():
        unit = "" if key == "predict_ours" else "x"
        met = "-" if t["met"] is None else ("met" if t["met"] else "NOT met")
        target_rows.append((names[key], ">= " + _num(t["target"], unit), _num(t["value"], unit), met))
    lines.append(_table(("target", "wanted", "measured", "result"), target_rows))
    if s["ablations"]:
        lines.append("")
        lines.append(_table(("ablation (ours)", "examples/s"),
                            [(k[len("ablation_"):], _num(v)) for k, v in s["ablations"].items()]))
    return "\n".join(lines)


def _safe_ratio(a, b):
    return a / b if a and b else None


def _table(header, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])
