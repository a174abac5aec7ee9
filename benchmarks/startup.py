"""Whole-process start-up times of the CLI beside `python -c "import mxnet"`.

Each round runs every command once, in turn (interleaved, so a change of load
on a shared machine hits all alike); the medians over the rounds are printed:
wall time, and the CPU time (user + system) of the process, which a busy
machine inflates less.
With --before DIR (a checkout of an older version), its `--help`,
`train --help` and 1-epoch `train` run in the same rounds, for a before/after.

    python benchmarks/startup.py --rounds 9 [--before /tmp/old-checkout]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMANDS = ("train", "evaluate", "predict", "compare", "reproduce", "sweep", "launch", "bench")


def commands(python, before, data_dir, out_dir):
    here = {**os.environ, "PYTHONPATH": REPO}
    cli = [python, "-m", "deepfm_gluon"]
    train = ["train", "--epochs", "1", "--no-checkpoints", "--no-progress", "--data-dir", data_dir]
    runs = {'python -c "import mxnet"': ([python, "-c", "import mxnet"], here),
            "deepfm-gluon --help": ([*cli, "--help"], here)}
    runs.update({f"deepfm-gluon {c} --help": ([*cli, c, "--help"], here) for c in COMMANDS})
    runs["deepfm-gluon train --epochs 1 --no-checkpoints"] = (
        [*cli, *train, "--out", os.path.join(out_dir, "now")], here)
    if before:
        old = {**os.environ, "PYTHONPATH": before}
        runs["before: deepfm-gluon --help"] = ([*cli, "--help"], old)
        runs["before: deepfm-gluon train --help"] = ([*cli, "train", "--help"], old)
        runs["before: deepfm-gluon train --epochs 1 --no-checkpoints"] = (
            [*cli, *train, "--out", os.path.join(out_dir, "before")], old)
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--before", default=None, help="an older checkout to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = commands(args.python, args.before, os.path.join(tmp, "data"), tmp)
        for name, (argv, env) in runs.items():  # warm-up; generates the synthetic data once
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tmp)
        times, cpu = {name: [] for name in runs}, {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, (argv, env) in runs.items():
                used = cpu_seconds()
                start = time.perf_counter()
                subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, cwd=tmp)
                times[name].append(time.perf_counter() - start)
                cpu[name].append(cpu_seconds() - used)
    width = max(map(len, times))
    for name, values in times.items():
        print(f"{name:{width}}  wall median {statistics.median(values):.3f} s "
              f"(min {min(values):.3f}, max {max(values):.3f}), "
              f"CPU median {statistics.median(cpu[name]):.3f} s")


def cpu_seconds():
    """User + system CPU time of all finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
