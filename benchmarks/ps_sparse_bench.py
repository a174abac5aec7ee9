"""Step time and bytes per step of a parameter-server sparse job
(distributed/sparse_worker.py) as the table grows, on localhost.

    python benchmarks/ps_sparse_bench.py --rows 100000 --workers 2 --servers 1
    python benchmarks/ps_sparse_bench.py --rows 10000000 --workers 2 --servers 1
    python benchmarks/ps_sparse_bench.py --rows 100000 --workers 1 --servers 1

The launcher part starts a scheduler, servers (the package's ps_server) and
workers (this file with --worker) through distributed.launcher.run_job. Each
worker builds FM/DeepFM with ``--rows`` table rows over 8 fields, trains
``--steps`` steps on Zipf-distributed ids (a skewed CTR-like id stream) with
DistributedSparseFitter.step, and prints one REPORT line: median step time
(after 5 warm-up steps), distinct rows per step, and the table bytes moved
per step each way (rows x (values of both tables, (k + 1) x 4 bytes, + an
8-byte key per table)); ps-lite's framing and the dense parameters come on top.
Memory: each worker reports its resident set after ``initialize`` and its
peak (ru_maxrss); the launcher prints the largest peak of all its children
(servers included) once the job is done.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np

FIELDS, FACTORS = 8, 10


def batches(rows, batch, steps, rank, workers, seed=0):
    per = rows // FIELDS
    for step in range(steps):
        rng = np.random.default_rng([seed, step])
        local = np.minimum(rng.zipf(1.3, (batch, FIELDS)) - 1, per - 1)
        local = (local * 2654435761 + 12345) % per       # spread the hot ids over the field
        X = (local + np.arange(FIELDS) * per).astype(np.int64)
        y = (rng.random(batch) < 0.3).astype(np.float32)
        yield X[rank::workers], y[rank::workers]


def resident_mib():
    """This process's resident set now (VmRSS), MiB."""
    with open("/proc/self/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return round(kib / 1024)


def peak_mib(who=resource.RUSAGE_SELF):
    return round(resource.getrusage(who).ru_maxrss / 1024)


def worker(args):
    from mxnet import npx
    import mxnet as mx
    from deepfm_gluon.distributed.sparse_worker import DistributedSparseFitter
    from deepfm_gluon.distributed.worker import join_job
    from deepfm_gluon.models import build_model
    from deepfm_gluon.training.config import TrainConfig
    npx.set_np()
    kv, rank, workers = join_job(args.kvstore, args.batch)
    net = build_model(args.model, [args.rows // FIELDS] * FIELDS, num_factors=FACTORS)
    config = TrainConfig(epochs=1, batch_size=args.batch, progress=False, devices="cpu")
    fitter = DistributedSparseFitter(net, args.model, config, kv, rank, workers)
    t0 = time.perf_counter()
    fitter.initialize()
    init_s = time.perf_counter() - t0
    rss_after_init = resident_mib()
    times = []
    for X, y in batches(args.rows, args.batch, args.steps, rank, workers):
        s = time.perf_counter()
        loss = fitter.step(X, y)[0][0]
        loss.wait_to_read()
        times.append(time.perf_counter() - s)
    mx.nd.waitall()
    distinct = float(np.mean(fitter.distinct_rows))
    width = FACTORS + 1
    print("REPORT " + json.dumps({
        "rank": rank, "workers": workers, "servers": int(os.environ["DMLC_NUM_SERVER"]),
        "rows": args.rows, "batch": args.batch, "init_s": round(init_s, 1),
        "step_ms_median": round(1000 * float(np.median(times[5:])), 2),
        "distinct_rows_per_worker_step": round(distinct, 1),
        "table_bytes_each_way_per_worker_step": int(distinct * (width * 4 + 8 * 2)),
        "rss_after_init_mib": rss_after_init, "rss_end_mib": resident_mib(),
        "peak_rss_mib": peak_mib()}), flush=True)


def launch(args):
    from deepfm_gluon.distributed.launcher import LOCALHOST, SCHEDULER_ARGV, SERVER_ARGV, Job, Role, free_port, run_job
    port = free_port(LOCALHOST)
    common = {"DMLC_PS_ROOT_URI": LOCALHOST, "DMLC_PS_ROOT_PORT": str(port), "DMLC_NODE_HOST": LOCALHOST,
              "DMLC_NUM_SERVER": str(args.servers), "DMLC_NUM_WORKER": str(args.workers),
              "OMP_NUM_THREADS": "1"}
    py = sys.executable
    me = [py, os.path.abspath(__file__), "--worker", "--rows", str(args.rows), "--batch", str(args.batch),
          "--steps", str(args.steps), "--model", args.model, "--kvstore", args.kvstore]
    roles = [Role("scheduler", 0, [py, *SCHEDULER_ARGV], {**common, "DMLC_ROLE": "scheduler"})]
    roles += [Role("server", i, [py, *SERVER_ARGV], {**common, "DMLC_ROLE": "server"}) for i in range(args.servers)]
    roles += [Role("worker", i, me, {**common, "DMLC_ROLE": "worker"}) for i in range(args.workers)]
    run_job(Job(roles, LOCALHOST, port, args.kvstore), timeout=900)
    print("REPORT " + json.dumps({"largest_child_peak_rss_mib": peak_mib(resource.RUSAGE_CHILDREN)}),
          flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--servers", type=int, default=1)
    p.add_argument("--batch", type=int, default=1024, help="global batch")
    p.add_argument("--steps", type=int, default=150)
    p.add_argument("--model", default="fm", choices=["fm", "deepfm"])
    p.add_argument("--kvstore", default="dist_sync", choices=["dist_sync", "dist_async"])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    worker(a) if a.worker else launch(a)
