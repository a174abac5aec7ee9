"""Load test of `deepfm-gluon serve`: concurrent clients, throughput and latency.

    python benchmarks/serve_load.py --model-dir runs/deepfm --engine onnxruntime mxnet

Starts the server as users do (`python -m deepfm_gluon serve --port 0`), then
``--clients`` keep-alive connections send ``--requests`` POST /predict
requests of N rows each (for every N in ``--rows``; rows are raw values from
the test file, JSON body), one request per connection at a time. Reports
requests/s, rows/s, p50/p99/max latency, errors (non-200 or a wrong number of
probabilities) and how many rows the server scored per model call. The client
is plain asyncio over raw HTTP/1.1, so it costs the shared cores little.
Without --model-dir it trains the book's DeepFM on the default synthetic data
(3 epochs) first.
"""
import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from deepfm_gluon.data.reader import read_ctr_columns  # noqa: E402 - after sys.path.insert
from deepfm_gluon.data.sources import load_split  # noqa: E402


def start_server(model_dir, engine, extra):
    proc = subprocess.Popen([sys.executable, "-m", "deepfm_gluon", "serve", "--model-dir", model_dir,
                             "--port", "0", "--engine", engine, *extra],
                            stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if " on http://" in line:
            url = line.split(" on ")[1].split()[0]
            host, port = url[len("http://"):].rsplit(":", 1)
            return proc, host, int(port)
    raise SystemExit(f"server for {model_dir} did not start (exit {proc.wait()})")


async def read_response(reader):
    status = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def client(host, port, bodies, rows, state, latencies):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while state["next"] < state["total"]:
            i = state["next"]
            state["next"] += 1
            body = bodies[i % len(bodies)]
            request = (f"POST /predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            start = time.perf_counter()
            writer.write(request)
            status, payload = await read_response(reader)
            latencies.append(time.perf_counter() - start)
            if b" 200 " not in status or len(json.loads(payload)["probabilities"]) != rows:
                state["errors"] += 1
    finally:
        writer.close()


async def load(host, port, bodies, rows, clients, total):
    state, latencies = {"next": 0, "total": total, "errors": 0}, []
    start = time.perf_counter()
    await asyncio.gather(*(client(host, port, bodies, rows, state, latencies) for _ in range(clients)))
    return time.perf_counter() - start, np.array(latencies), state["errors"]


def served(host, port):
    with urllib.request.urlopen(f"http://{host}:{port}/metadata") as r:
        return json.load(r)["served"]


def run_one(model_dir, engine, rows_per_request, args, raw_rows):
    proc, host, port = start_server(model_dir, engine, args.server_flags)
    try:
        bodies = [json.dumps({"rows": [raw_rows[(i * rows_per_request + j) % len(raw_rows)]
                                       for j in range(rows_per_request)]}).encode()
                  for i in range(64)]
        asyncio.run(load(host, port, bodies, rows_per_request, args.clients, args.warmup))
        before, load_avg = served(host, port), os.getloadavg()[0]
        seconds, lat, errors = asyncio.run(load(host, port, bodies, rows_per_request,
                                                args.clients, args.requests))
        after = served(host, port)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    calls = after["batches"] - before["batches"]
    return {"engine": engine, "rows_per_request": rows_per_request, "clients": args.clients,
            "requests": args.requests, "errors": errors, "seconds": seconds,
            "requests_per_sec": args.requests / seconds,
            "rows_per_sec": args.requests * rows_per_request / seconds,
            "p50_ms": float(np.percentile(lat, 50) * 1e3), "p99_ms": float(np.percentile(lat, 99) * 1e3),
            "max_ms": float(lat.max() * 1e3), "model_calls": calls,
            "rows_per_model_call": (after["rows"] - before["rows"]) / max(calls, 1),
            "load_avg_1min_before": load_avg, "server_exit_code": proc.returncode}


def default_model(work):
    out = os.path.join(work, "deepfm")
    if not os.path.exists(os.path.join(out, "model.params")):
        subprocess.run([sys.executable, "-m", "deepfm_gluon", "train", "--model", "deepfm", "--epochs", "3",
                        "--no-checkpoints", "--no-progress", "--out", out], check=True,
                       stdout=subprocess.DEVNULL)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--data", default=None, help="raw lines to send (default: the model's test file)")
    parser.add_argument("--engine", nargs="+", default=["onnxruntime", "mxnet"])
    parser.add_argument("--rows", nargs="+", type=int, default=[1, 100])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--server-flags", nargs=argparse.REMAINDER, default=[],
                        help="passed to `serve`, e.g. --max-wait-ms 1")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    model_dir = args.model_dir or default_model(tempfile.mkdtemp(prefix="serve_load_"))
    data = args.data or load_split("synthetic").test.data_path
    raw_rows = read_ctr_columns(data)[1].tolist()
    results = [run_one(model_dir, engine, rows, args, raw_rows)
               for rows in args.rows for engine in args.engine]
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(f"{machine['date']}, {machine['cpus']} CPUs, {args.clients} clients, {args.requests} requests each")
    print("| engine | rows/request | requests/s | rows/s | p50 ms | p99 ms | max ms | errors | rows per model call |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['engine']} | {r['rows_per_request']} | {r['requests_per_sec']:.0f} | {r['rows_per_sec']:.0f} "
              f"| {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['errors']} "
              f"| {r['rows_per_model_call']:.1f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "results": results}, f, indent=1)
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
