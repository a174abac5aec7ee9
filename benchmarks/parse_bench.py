"""Encoding rate of the two byte-level readers: the d2l-format fast path
(``CTRDataset`` on a clean file) and the Criteo cache build (vocabulary and
hashing), for one or more package trees side by side.

    OMP_NUM_THREADS=2 python benchmarks/parse_bench.py --roots /tmp/old-tree . --repeats 3 --reps 3

Each measurement runs in a fresh child process with ``PYTHONPATH`` set to
the tree, so two versions of the package can be compared in one run;
repeats are interleaved (old, new, old, new, ...) so a change in the
machine's load hits both alike. Reported: rows/sec by wall clock and rows
per CPU-second (user+system time of the run), each the best over all runs
(``--repeats`` children, ``--reps`` runs in each).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

CHILD = """
import json, os, resource, shutil, sys, time
kind, path, cache, reps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if kind == "d2l":
    from deepfm_gluon.data.ctr_dataset import CTRDataset
    def run():
        return len(CTRDataset(path))
else:
    try:
        from deepfm_gluon.data.criteo import CriteoOptions, open_cache
    except ImportError:  # the tree before data/criteo/ became a package
        from deepfm_gluon.data.criteo_cache import CriteoOptions, open_cache
    def run():
        shutil.rmtree(cache, ignore_errors=True)
        _, meta = open_cache(path, cache, CriteoOptions(hash_buckets=1 << 20 if kind == "hash" else 0))
        return meta["num_rows"]
seconds = cpu = float("inf")
for _ in range(reps):  # best of reps in one process: the least disturbed by other jobs
    cpu0, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    rows = run()
    seconds = min(seconds, time.perf_counter() - start)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = min(cpu, usage.ru_utime + usage.ru_stime - cpu0.ru_utime - cpu0.ru_stime)
shutil.rmtree(cache, ignore_errors=True)
print(json.dumps({"rows": rows, "seconds": seconds, "cpu_seconds": cpu}))
"""


def make_files(work, d2l_rows, criteo_rows, root):
    """A clean d2l-format file (34 fields) and a Criteo-format file, made once."""
    os.makedirs(work, exist_ok=True)
    d2l = os.path.join(work, f"d2l-{d2l_rows}.csv")
    criteo = os.path.join(work, f"criteo-{criteo_rows}.txt")
    script = f"""
import os, sys
from deepfm_gluon.data.synthetic import SyntheticSpec, generate_synthetic
try:
    from deepfm_gluon.data.criteo import CriteoSyntheticSpec, write_criteo_synthetic
except ImportError:
    from deepfm_gluon.data.criteo_synthetic import CriteoSyntheticSpec, write_criteo_synthetic
if not os.path.exists({d2l!r}):
    folder = generate_synthetic({work!r} + '/d2l-gen', SyntheticSpec(num_train={d2l_rows}, num_test=10))
    os.replace(os.path.join(folder, 'train.csv'), {d2l!r})
if not os.path.exists({criteo!r}):
    write_criteo_synthetic({criteo!r}, CriteoSyntheticSpec(num_rows={criteo_rows}))
"""
    subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": root}, check=True)
    return d2l, criteo


def measure(root, kind, path, cache, reps):
    env = {**os.environ, "PYTHONPATH": os.path.abspath(root)}
    out = subprocess.run([sys.executable, "-c", CHILD, kind, path, cache, str(reps)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--roots", nargs="+", default=["."], help="package trees to compare")
    p.add_argument("--d2l-rows", type=int, default=500_000)
    p.add_argument("--criteo-rows", type=int, default=500_000)
    p.add_argument("--repeats", type=int, default=3, help="child processes per tree and reader")
    p.add_argument("--reps", type=int, default=3, help="timed runs inside each child")
    p.add_argument("--work", default=os.path.join("/tmp", "parse-bench"))
    args = p.parse_args(argv)
    d2l, criteo = make_files(args.work, args.d2l_rows, args.criteo_rows, os.path.abspath(args.roots[-1]))
    print(json.dumps({"machine": f"{os.cpu_count()} cores, {platform.platform()}",
                      "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
                      "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                      "loadavg": os.getloadavg()[0]}), flush=True)
    best = {}
    for _ in range(args.repeats):
        for kind, path in (("d2l", d2l), ("vocab", criteo), ("hash", criteo)):
            for root in args.roots:
                r = measure(root, kind, path, os.path.join(args.work, "cache"), args.reps)
                key = (root, kind)
                prev = best.get(key)
                best[key] = {"seconds": min(r["seconds"], prev["seconds"]) if prev else r["seconds"],
                             "cpu_seconds": min(r["cpu_seconds"], prev["cpu_seconds"]) if prev else r["cpu_seconds"],
                             "rows": r["rows"]}
    for (root, kind), r in best.items():
        print(json.dumps({"root": root, "kind": kind, "rows": r["rows"],
                          "rows_per_sec": round(r["rows"] / r["seconds"]),
                          "rows_per_cpu_sec": round(r["rows"] / r["cpu_seconds"]),
                          "best_seconds": round(r["seconds"], 3)}), flush=True)
    print(json.dumps({"loadavg_after": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
