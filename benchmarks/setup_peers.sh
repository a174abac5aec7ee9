#!/usr/bin/env bash
# The peers' scratch venv: PyTorch (CPU), pytorch-fm 0.7.0 and FuxiCTR 2.3.10.
# Never the package's venv: none of them is a dependency of deepfm-gluon.
#   bash benchmarks/setup_peers.sh [VENV]        (default: ../peer-venv)
# then: deepfm-gluon bench --zoo --peer-python VENV/bin/python
# FuxiCTR's pip package holds the library, not its model zoo: its DeepFM
# comes from a checkout of reczoo/FuxiCTR (benchmarks/peers/fuxictr_deepfm.py
# takes --model-zoo PATH/model_zoo).
set -euo pipefail
VENV=${1:-../peer-venv}
python3.11 -m venv "$VENV"
"$VENV/bin/pip" install -q torch==2.13.0          # the CPU build
"$VENV/bin/pip" install -q torchfm==0.7.0
"$VENV/bin/pip" install -q fuxictr==2.3.10 'polars<2'   # polars 2 breaks FuxiCTR's CSV reader
"$VENV/bin/python" -c "import torch, torchfm, fuxictr; print('peers ready:', torch.__version__)"
