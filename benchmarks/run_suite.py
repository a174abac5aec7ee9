#!/usr/bin/env python
"""The full benchmark suite; same flags as `deepfm-gluon bench` (see --help).

    OMP_NUM_THREADS=2 python benchmarks/run_suite.py --torch-python /tmp/torchvenv/bin/python
    python benchmarks/run_suite.py --quick          # CI-size smoke run
"""
import sys

from deepfm_gluon.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
