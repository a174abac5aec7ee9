#!/usr/bin/env bash
# The benchmark suite on a lent GPU machine, one command:
#   bash benchmarks/gpu_suite.sh [OUT_DIR [extra bench flags]]
# Needs the project's venv (mxnet built for CUDA: pip install mxnet-cu112==1.9.1 in place of
# mxnet) and, optionally, a torch with CUDA in TORCH_PYTHON. Writes OUT_DIR/bench.json and
# OUT_DIR/bench.txt. The suite itself times the CPU pipelines; this script adds a GPU run of
# the package's training loop so the two can be read side by side.
set -euo pipefail
OUT=${1:-${OUT:-bench-gpu}}
[ $# -gt 0 ] && shift  # the rest are passed to `deepfm-gluon bench`
PY=${PYTHON:-python}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
lscpu | grep -E 'Model name|^CPU\(s\)' | tee -a "$OUT/gpu.txt"
# Preflight: say in one line what is missing instead of failing deep inside the suite.
# mxnet-cu112 1.9.1 (499 MB) links the CUDA 11.2 runtime: libcudart.so.11.0, libcublas.so.11,
# libcudnn.so.8, libnccl.so.2, libcufft.so.10, libcusolver.so.11, libcurand.so.10, libnvrtc.so.11.2.
echo "CUDA runtime libraries here: $(ldconfig -p | grep -oE 'lib(cudart|cublas|cudnn)\.so\.[0-9.]+' \
  | sort -u | tr '\n' ' ')" | tee -a "$OUT/gpu.txt"
preflight() {
  if ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
    echo "$("$PY" -V 2>&1) at $(command -v "$PY"): the suite needs Python 3.11 (MXNet 1.9.1 needs numpy<1.24)"
  elif ! "$PY" -c 'import mxnet' 2>/dev/null; then
    echo "mxnet is not importable by $PY: pip install mxnet-cu112==1.9.1 (and the CUDA 11.2 runtime)"
  elif ! "$PY" -c 'import mxnet as mx, sys; sys.exit(mx.context.num_gpus() < 1)' 2>/dev/null; then
    echo "mxnet sees no GPU: install the CUDA build (mxnet-cu112==1.9.1) in place of the CPU wheel"
  fi
}
PROBLEM=$(preflight)
if [ -n "$PROBLEM" ]; then
  echo "gpu_suite: cannot run: $PROBLEM" | tee "$OUT/preflight.txt" >&2
  exit 3
fi
TORCH_ARGS=()
if [ -n "${TORCH_PYTHON:-}" ]; then TORCH_ARGS=(--torch-python "$TORCH_PYTHON"); fi
export OMP_NUM_THREADS=$(nproc)
"$PY" -m deepfm_gluon bench --repeats 3 --threads "$OMP_NUM_THREADS" --out "$OUT/bench.json" \
  "${TORCH_ARGS[@]}" "$@" | tee "$OUT/bench.txt"
# The package's loop on the GPU (the suite's CPU tasks do not take a device).
"$PY" - <<'PY' | tee -a "$OUT/bench.txt"
import time, numpy as np, mxnet as mx
from deepfm_gluon.data.batches import BatchIterator
from deepfm_gluon.models import build_model
from deepfm_gluon.training.config import TrainConfig
from deepfm_gluon.training.loop import Fitter
mx.npx.set_np()
if not mx.context.num_gpus():
    raise SystemExit("no GPU visible to MXNet: install the CUDA build of mxnet 1.9.1")
rng = np.random.default_rng(0)
X = rng.integers(0, 117, (200000, 34)) + np.arange(34) * 117
y = rng.integers(0, 2, 200000).astype(np.float32)
for devices in ("gpu", "cpu"):
    fitter = Fitter(build_model("deepfm", [117] * 34), "deepfm", TrainConfig(progress=False, devices=devices))
    fitter.initialize()
    batches = BatchIterator(X, y, 2048, seed=0)
    fitter.train_epoch(batches, 0); mx.npx.waitall()
    start = time.perf_counter(); seen = sum(fitter.train_epoch(batches, e)[1] for e in range(3)); mx.npx.waitall()
    print(f"package loop on {devices}: {seen / (time.perf_counter() - start):.0f} examples/sec")
PY
