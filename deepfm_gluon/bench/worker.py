"""Runs one benchmark task in this process: ``python -m deepfm_gluon.bench.worker``.

A fresh process per measurement gives every pipeline the same start (no
warm caches from the one before), lets the suite set OpenMP variables before
MXNet loads (they are read once, at load), and makes peak RSS per pipeline.
Reads ``{"task": name, "kwargs": {...}}`` on stdin; prints one result line.
"""
import json
import sys

RESULT_PREFIX = "BENCH_RESULT "
PEAK_PREFIX = "BENCH_PEAK_RSS_KB "


def peak_rss_kb():
    """This process's own peak RSS (VmHWM). ``ru_maxrss`` would not do: Linux
    keeps it across exec, so a child would report its parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    # start-up: imported where used, so each timed process loads only what it measures
    import resource
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main():
    request = json.loads(sys.stdin.read())
    # start-up: imported where used, so each timed process loads only what it measures
    from .tasks import run_task
    result = run_task(request["task"], request.get("kwargs", {}))
    result["peak_rss_mib"] = peak_rss_kb() / 1024
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
