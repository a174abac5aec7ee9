"""Runs one benchmark task in this process: ``python -m deepfm_gluon.bench.worker``.

A fresh process per measurement gives every pipeline the same start (no
warm caches from the one before), lets the suite set OpenMP variables before
MXNet loads (they are read once, at load), and makes peak RSS per pipeline.
Reads ``{"task": name, "kwargs": {...}}`` on stdin; prints one result line.
"""
import json
import resource
import sys

RESULT_PREFIX = "BENCH_RESULT "


def main():
    request = json.loads(sys.stdin.read())
    from .tasks import run_task
    result = run_task(request["task"], request.get("kwargs", {}))
    result["self_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
