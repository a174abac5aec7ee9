"""The same export scored from another language: examples/onnx_node/score.js
(ONNX Runtime for Node.js, the encoder applied by its JSON rule) on the whole
test set equals the trained net. Runs where `node` and the example's
node_modules exist (.ci/run installs them when npm is there); skips otherwise."""
import os
import shutil
import subprocess

import numpy as onp
import pytest

pytest.importorskip("onnx")

from mxnet import np  # noqa: E402

from deepfm_gluon.cli import main  # noqa: E402

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "onnx_node")


@pytest.mark.parametrize("kind", ["fm", "deepfm"])
def test_node_onnxruntime_scores_the_export_like_the_trained_net(kind, trained_models, small_split, tmp_path):
    if shutil.which("node") is None or not os.path.isdir(os.path.join(EXAMPLE, "node_modules", "onnxruntime-node")):
        pytest.skip("node or examples/onnx_node/node_modules missing (npm install there)")
    net, model_dir = trained_models[kind]
    path = str(tmp_path / "m.onnx")
    assert main(["export", "--model-dir", model_dir, "--format", "onnx", "--out", path]) == 0
    with open(small_split.test.data_path) as lines:
        proc = subprocess.run(["node", os.path.join(EXAMPLE, "score.js"), path, str(tmp_path / "m.encoder.json")],
                              stdin=lines, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    probs = onp.array(proc.stdout.split(), dtype=float)
    expected = net(np.array(small_split.test.features, dtype="int32")).asnumpy().ravel()
    onp.testing.assert_allclose(probs, expected, rtol=0, atol=1e-5)
