"""A model is one file: a model module written here, outside the package,
registered through $DEEPFM_GLUON_MODELS, goes through the real command line
(a second process) -- listed, trained with checkpoints, resumed bit-exactly,
trained with sparse updates, exported to ONNX and scored by both engines --
with no package file touched."""
import json
import os
import subprocess
import sys
import textwrap

import mxnet as mx
import numpy as onp
import pytest

PLUGIN = "fieldweighted_plugin"
MODEL_FILE = textwrap.dedent('''
    """A field-weighted linear model: logit = b + sum_f r_f * scale * w[x_f]."""
    from mxnet.gluon import nn

    from deepfm_gluon.models import onnx_layers
    from deepfm_gluon.models.spec import FloatRange, Hyperparameter, ModelSpec


    class FieldWeighted(nn.HybridBlock):
        def __init__(self, field_dims, scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.field_dims = tuple(int(d) for d in field_dims)
            self.num_fields = len(self.field_dims)
            self.scale = float(scale)
            self.weights = nn.Embedding(sum(self.field_dims), 1)   # w: one weight per feature
            self.fields = nn.Dense(1, in_units=self.num_fields)    # r_f per field, and b

        def config(self):
            return {"field_dims": list(self.field_dims), "scale": self.scale}

        def hybrid_forward(self, F, x):
            return F.npx.sigmoid(self.logit(F, x))

        def logit(self, F, x):
            return self.fields(self.weights(x).reshape((-1, self.num_fields)) * self.scale)


    def onnx_logit(net, graph):
        weights = onnx_layers.flatten_fields(graph, onnx_layers.embedding(graph, net.weights))
        return onnx_layers.dense(graph, net.fields, graph.mul(weights, graph.const(net.scale, "scale")))


    MODEL = ModelSpec(
        name="fieldweighted", block=FieldWeighted,
        description="field-weighted logistic regression (a plug-in made by a test)",
        hyperparameters=(Hyperparameter("scale", 1.0, "float", 0.1, 10.0, help="weight scale"),),
        lr=0.05, tables=("weights",), output_bias="fields.bias", onnx=onnx_logit,
        search_space={"scale": FloatRange(0.5, 2.0)})
''')


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plugin")
    (folder / f"{PLUGIN}.py").write_text(MODEL_FILE)
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "DEEPFM_GLUON_MODELS": PLUGIN, "OMP_NUM_THREADS": "1"}


def cli(env, *argv, ok=True, cwd=None):
    """Run `deepfm-gluon ARGV` in a fresh process; returns it (asserting its exit code)."""
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", *map(str, argv)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert (proc.returncode == 0) == ok, proc.stderr[-3000:]
    return proc


def params_of(model_dir):
    return {k: v.asnumpy() for k, v in mx.nd.load(os.path.join(model_dir, "model.params")).items()}


def test_a_plugin_model_trains_resumes_exports_and_predicts(plugin_env, small_data_dir, tmp_path):
    env = plugin_env
    listed = json.loads(cli(env, "models", "--json").stdout)
    plugin = next(m for m in listed if m["name"] == "fieldweighted")
    assert plugin["module"] == PLUGIN and plugin["onnx"] and plugin["tables"] == ["weights"]
    assert "fieldweighted" in cli(env, "models").stdout

    common = ["--model", "fieldweighted", "--model-arg", "scale=2", "--data", small_data_dir,
              "--no-progress", "--batch-size", "500"]
    full, part = tmp_path / "full", tmp_path / "part"
    cli(env, "train", *common, "--epochs", "3", "--out", full)
    meta = json.loads((full / "meta.json").read_text())
    assert meta["kind"] == "fieldweighted" and meta["model_config"]["scale"] == 2.0
    assert meta["model_module"] == PLUGIN
    assert (full / "checkpoints").is_dir()

    # interrupted after one epoch, resumed to three: the same parameters, bit for bit
    cli(env, "train", *common, "--epochs", "1", "--out", part)
    cli(env, "train", "--resume", part, "--epochs", "3")
    expected, resumed = params_of(full), params_of(part)
    assert sorted(expected) == sorted(resumed)
    for name, value in expected.items():
        onp.testing.assert_array_equal(resumed[name], value, err_msg=name)

    sparse = tmp_path / "sparse"
    cli(env, "train", *common, "--epochs", "1", "--sparse", "--out", sparse)
    assert json.loads((sparse / "meta.json").read_text())["train_config"]["sparse"] is True
    assert not onp.allclose(params_of(sparse)["weights.weight"], 0)

    onnx_path = tmp_path / "m.onnx"
    cli(env, "export", "--model-dir", full, "--format", "onnx", "--out", onnx_path)
    assert onnx_path.is_file()
    test_file = os.path.join(small_data_dir, "test.csv")
    outputs = {}
    for engine in ("mxnet", "onnxruntime"):
        pytest.importorskip("onnxruntime") if engine == "onnxruntime" else None
        outputs[engine] = tmp_path / f"{engine}.txt"
        cli(env, "predict", "--model-dir", full, "--input", test_file, "--output", outputs[engine],
            "--engine", engine)
    mxnet_probs, onnx_probs = onp.loadtxt(outputs["mxnet"]), onp.loadtxt(outputs["onnxruntime"])
    assert mxnet_probs.shape == (600,) and mxnet_probs.std() > 0
    onp.testing.assert_allclose(onnx_probs, mxnet_probs, rtol=0, atol=1e-5)

    # without the registration, the model directory names the module to register (never imported)
    bare = {k: v for k, v in env.items() if k != "DEEPFM_GLUON_MODELS"}
    proc = cli(bare, "predict", "--model-dir", full, "--input", test_file, "--output", tmp_path / "x.txt",
               ok=False)
    assert f"$DEEPFM_GLUON_MODELS={PLUGIN}" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, message", [
    (["--model", "nosuch"], "unknown model 'nosuch'; known models: autoint, dcnv2, deepfm, fieldweighted, fm, lr"),
    (["--model", "fieldweighted", "--model-arg", "scale=50"],
     "--model-arg scale=50.0: model fieldweighted: scale: expected 0.1..10, got 50.0"),
    (["--model", "fieldweighted", "--num-factors", "4"],
     "--num-factors: model fieldweighted has no hyperparameter set by it; its hyperparameters: scale"),
])
def test_bad_model_choices_are_one_line(plugin_env, argv, message, tmp_path):
    proc = cli(plugin_env, "train", *argv, "--out", tmp_path / "m", ok=False)
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()
