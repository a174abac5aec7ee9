"""Exports predict what the trained net predicts: ONNX Runtime and MXNet's
SymbolBlock (loaded in a fresh process that never imports this package), on the
whole test set, within 1e-5; and the encoder JSON, applied by its documented
rule alone, reproduces the training encoding."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as onp
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from mxnet import np  # noqa: E402

from deepfm_gluon.cli import main  # noqa: E402
from deepfm_gluon.data.reader import read_ctr_columns  # noqa: E402
from deepfm_gluon.errors import DeepFMError  # noqa: E402
from deepfm_gluon.data.criteo import CriteoOptions, CriteoSyntheticSpec, write_criteo_synthetic  # noqa: E402
from deepfm_gluon.data.encoders import EncoderFormatError, encoder_from_dict, load_encoder  # noqa: E402
from deepfm_gluon.data.sources import load_split  # noqa: E402
from deepfm_gluon.serving.export import export_model_dir  # noqa: E402
from deepfm_gluon.serving.export_onnx import OPSET  # noqa: E402
from deepfm_gluon.serving.model_dir import load_model_dir  # noqa: E402
from deepfm_gluon.serving.onnx_engine import OnnxPredictor  # noqa: E402
from deepfm_gluon.serving.predictor import Predictor  # noqa: E402

KINDS = ["fm", "deepfm"]
ATOL = 1e-5


def net_probs(net, features):
    return net(np.array(features, dtype="int32")).asnumpy().ravel()


def run_onnx(path_or_bytes, features):
    session = ort.InferenceSession(path_or_bytes, providers=["CPUExecutionProvider"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    return session.run([out.name], {inp.name: onp.asarray(features, dtype=onp.int64)})[0]


@pytest.mark.parametrize("kind", KINDS)
def test_onnx_export_equals_the_trained_net(kind, trained_models, small_split, tmp_path):
    net, model_dir = trained_models[kind]
    path = str(tmp_path / "m.onnx")
    assert main(["export", "--model-dir", model_dir, "--format", "onnx", "--out", path]) == 0
    model = onnx.load(path)
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [OPSET]
    inp, out = model.graph.input[0], model.graph.output[0]
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim] == ["batch", 34]
    assert [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim] == ["batch", 1]
    features = small_split.test.features
    probs = run_onnx(path, features)
    assert probs.shape == (len(features), 1)
    onp.testing.assert_allclose(probs.ravel(), net_probs(net, features), rtol=0, atol=ATOL)
    onp.testing.assert_allclose(run_onnx(path, features[:1]).ravel(),  # dynamic batch: 1 row
                                net_probs(net, features[:1]), rtol=0, atol=ATOL)
    assert os.path.exists(str(tmp_path / "m.encoder.json"))


FRESH_PROCESS = textwrap.dedent("""
    import sys
    import mxnet as mx
    import numpy
    mx.npx.set_np()
    net = mx.gluon.SymbolBlock.imports(sys.argv[1] + "-symbol.json", ["data"], sys.argv[1] + "-0000.params")
    x = mx.np.array(numpy.load(sys.argv[2]), dtype="int32")
    numpy.save(sys.argv[3], net(x).asnumpy())
    assert not any(m.startswith("deepfm_gluon") for m in sys.modules), "imported deepfm_gluon"
""")


def symbolblock_in_fresh_process(prefix, features, tmp_path):
    """float32 (n, 1): the MXNet export at ``prefix`` run on ``features`` by
    SymbolBlock.imports in a new Python that never imports deepfm_gluon."""
    onp.save(tmp_path / "x.npy", features)
    script = tmp_path / "load.py"
    script.write_text(FRESH_PROCESS)
    proc = subprocess.run([sys.executable, str(script), prefix, str(tmp_path / "x.npy"),
                           str(tmp_path / "y.npy")], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return onp.load(tmp_path / "y.npy")


@pytest.mark.parametrize("kind", KINDS)
def test_mxnet_export_round_trip_in_a_fresh_process(kind, trained_models, small_split, tmp_path):
    net, model_dir = trained_models[kind]
    prefix = str(tmp_path / "m")
    assert main(["export", "--model-dir", model_dir, "--format", "mxnet", "--out", prefix]) == 0
    assert {"m-symbol.json", "m-0000.params", "m.encoder.json"} <= set(os.listdir(tmp_path))
    features = small_split.test.features
    probs = symbolblock_in_fresh_process(prefix, features, tmp_path)
    assert probs.shape == (len(features), 1)
    onp.testing.assert_allclose(probs.ravel(), net_probs(net, features), rtol=0, atol=ATOL)


def test_encoder_json_by_its_rule_alone_reproduces_the_training_encoding(trained_models, small_split, tmp_path):
    _, model_dir = trained_models["deepfm"]
    path = str(tmp_path / "m.onnx")
    assert main(["export", "--model-dir", model_dir, "--format", "onnx", "--out", path]) == 0
    spec = json.load(open(tmp_path / "m.encoder.json"))
    _, values, _ = read_ctr_columns(small_split.test.data_path)
    # what a client in another language does: nothing but the documented rule (docs/encoder.md)
    assert spec["kind"] == "vocabulary"
    assert all(f["transform"] == "identity" for f in spec["fields"])
    offsets = onp.cumsum([0] + [len(f["vocabulary"]) + 1 for f in spec["fields"]])[:-1]
    by_rule = [[int(o) + f["vocabulary"].get(v, f["default"]) for v, f, o in zip(row, spec["fields"], offsets)]
               for row in values.tolist()]
    onp.testing.assert_array_equal(onp.array(by_rule), small_split.test.features)
    assert int(sum(len(f["vocabulary"]) + 1 for f in spec["fields"])) == int(sum(small_split.train.field_dims))
    encoder = encoder_from_dict(spec)
    onp.testing.assert_array_equal(encoder.encode(values), small_split.test.features)
    onp.testing.assert_array_equal(encoder.encode(values[:3]), small_split.test.features[:3])  # the few-rows path


@pytest.mark.parametrize("kind", KINDS)
def test_onnx_predictor_scores_files_like_the_mxnet_one(kind, trained_models, small_split, tmp_path):
    net, model_dir = trained_models[kind]
    test_file = small_split.test.data_path
    outs = {}
    for engine in ("mxnet", "onnxruntime"):
        outs[engine] = str(tmp_path / f"{engine}.txt")
        assert main(["predict", "--model-dir", model_dir, "--input", test_file,
                     "--output", outs[engine], "--engine", engine]) == 0
    expected = net_probs(net, small_split.test.features)
    onp.testing.assert_allclose(onp.loadtxt(outs["onnxruntime"]), expected, rtol=0, atol=ATOL)
    onp.testing.assert_allclose(onp.loadtxt(outs["mxnet"]), expected, rtol=0, atol=ATOL)
    scores = OnnxPredictor(model_dir).evaluate_file(test_file)
    reference = Predictor(model_dir).evaluate_file(test_file)
    assert scores["examples"] == reference["examples"] == len(small_split.test)
    assert scores["auc"] == pytest.approx(reference["auc"], abs=1e-6)
    assert scores["logloss"] == pytest.approx(reference["logloss"], abs=1e-6)


ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SHARED = os.environ.get("DEEPFM_GLUON_SHARED", os.path.join(ROOT, "..", "shared"))  # as CI lays it
CRITEO_SAMPLE = os.path.join(SHARED, "data", "criteo", "paddlerec_criteo_raw_sample_train.txt")
SYNTHETIC_ROWS = 2000


@pytest.fixture(scope="module")
def criteo_files(tmp_path_factory):
    """{source: Criteo-format file}: a synthetic one always (the test never
    skips), and the real PaddleRec sample where ../shared holds it."""
    folder = tmp_path_factory.mktemp("criteo")
    synthetic = str(folder / "synthetic.txt")
    write_criteo_synthetic(synthetic, CriteoSyntheticSpec(num_rows=SYNTHETIC_ROWS, max_cardinality=500))
    files = {"synthetic": synthetic}
    if os.path.exists(CRITEO_SAMPLE):
        files["real"] = os.path.abspath(CRITEO_SAMPLE)
    return files


def held_out_raw_values(path, num_test):
    """str (num_test, 39): the raw cells (label dropped) of the last ``num_test``
    lines of a clean Criteo file, the hold-out set (data/criteo/dataset.py)."""
    with open(path, newline="") as f:
        lines = f.read().rstrip("\n").split("\n")
    return onp.array([line.split("\t")[1:] for line in lines[-num_test:]], dtype=object)


def assert_no_paths_in_exports(folder, paths):
    """No exported file (ONNX metadata_props, encoder JSON, MXNet symbol and
    params) holds any of ``paths``, nor their folders, in any byte (issue 21)."""
    needles = set()
    for path in paths:
        path = os.path.abspath(path)
        needles.update({path, os.path.dirname(path), os.path.realpath(path)})
    exports = [p for p in folder.iterdir() if p.is_file() and p.name.startswith(("m.", "mx"))]
    assert len(exports) == 5  # m.onnx, m.encoder.json, mx-symbol.json, mx-0000.params, mx.encoder.json
    for export in exports:
        data = export.read_bytes()
        for needle in needles:
            assert needle.encode() not in data, f"{export.name} holds the path {needle}"


@pytest.mark.parametrize("source", ["synthetic", "real"])
@pytest.mark.parametrize("hash_buckets", [None, 300], ids=["vocabulary", "hashing"])
@pytest.mark.parametrize("kind", KINDS)
def test_criteo_trained_nets_export_through_the_cli(kind, hash_buckets, source, criteo_files, tmp_path):
    """train --data criteo:FILE, then export both formats with the CLI: the exported
    encoder JSON turns the raw held-out lines into the cache's features, and ONNX
    Runtime and SymbolBlock (fresh process) predict what the trained net does."""
    if source not in criteo_files:
        pytest.skip("shared Criteo sample not present (the synthetic file still runs)")
    data = "criteo:" + criteo_files[source]
    model_dir = str(tmp_path / "model")
    encoder_flags = ["--hash-buckets", str(hash_buckets)] if hash_buckets else []
    assert main(["train", "--model", kind, "--data", data, "--data-dir", str(tmp_path), *encoder_flags,
                 "--epochs", "1", "--batch-size", "16", "--no-checkpoints", "--no-progress",
                 "--out", model_dir]) == 0
    net, _, _ = load_model_dir(model_dir)
    # Dense biases start at zero: a moved bias proves optimizer steps ran
    assert float(abs(net.linear_layer.bias.data().asnumpy()).max()) > 0

    onnx_path, prefix = str(tmp_path / "m.onnx"), str(tmp_path / "mx")  # two encoder files
    assert main(["export", "--model-dir", model_dir, "--format", "onnx", "--out", onnx_path]) == 0
    assert main(["export", "--model-dir", model_dir, "--format", "mxnet", "--out", prefix]) == 0
    encoder = load_encoder(str(tmp_path / "m.encoder.json"))
    assert encoder.kind == ("hashing" if hash_buckets else "vocabulary")
    assert_no_paths_in_exports(tmp_path, [criteo_files[source], model_dir, str(tmp_path)])

    options = CriteoOptions(hash_buckets=hash_buckets or 0)
    test = load_split(data, data_dir=str(tmp_path), criteo=options).test  # the cache train wrote
    assert len(test) > 0
    features = encoder.encode(held_out_raw_values(criteo_files[source], len(test)))
    onp.testing.assert_array_equal(features, onp.asarray(test.features))
    expected = net_probs(net, features)
    assert expected.std() > 0

    onp.testing.assert_allclose(run_onnx(onnx_path, features).ravel(), expected, rtol=0, atol=ATOL)
    probs = symbolblock_in_fresh_process(prefix, features, tmp_path)
    onp.testing.assert_allclose(probs.ravel(), expected, rtol=0, atol=ATOL)


def test_what_cannot_be_exported_is_refused_in_one_line(trained_models, tmp_path, capsys):
    _, model_dir = trained_models["fm"]
    copy = tmp_path / "no_encoder"
    copy.mkdir()
    for name in ("model.params", "meta.json"):
        (copy / name).write_bytes(open(os.path.join(model_dir, name), "rb").read())
    assert main(["export", "--model-dir", str(copy), "--format", "onnx", "--out", str(tmp_path / "x.onnx")]) == 2
    assert "missing" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "x.onnx")
    assert main(["export", "--model-dir", str(tmp_path / "nope"), "--format", "mxnet",
                 "--out", str(tmp_path / "y")]) == 2
    assert "not a directory" in capsys.readouterr().err
    with pytest.raises(EncoderFormatError, match="not a deepfm-gluon encoder"):
        encoder_from_dict({"format": "something else", "format_version": 1, "fields": []})


def test_without_the_serve_extra_onnx_export_says_what_to_install(trained_models, tmp_path, monkeypatch, capsys):
    _, model_dir = trained_models["fm"]
    monkeypatch.setitem(sys.modules, "onnx", None)  # what `import onnx` meets when it is absent
    assert main(["export", "--model-dir", model_dir, "--format", "onnx", "--out", str(tmp_path / "m.onnx")]) == 2
    assert "pip install 'deepfm-gluon[serve]'" in capsys.readouterr().err
    assert not os.listdir(tmp_path)


def test_a_model_without_an_onnx_graph_is_refused_in_one_line(trained_models, tmp_path, monkeypatch):
    """The exporter is generic: it asks the model's spec for its graph, and a
    spec without one is refused naming the model and the MXNet format."""
    import dataclasses

    from deepfm_gluon.models import registry
    registry.get_spec("fm")  # loaded before it is replaced
    monkeypatch.setitem(registry._REGISTRY, "fm", dataclasses.replace(registry.get_spec("fm"), onnx=None))
    _, model_dir = trained_models["fm"]
    with pytest.raises(DeepFMError, match=r"^model fm has no ONNX graph .*--format mxnet$"):
        export_model_dir(model_dir, "onnx", str(tmp_path / "m.onnx"))
    assert main(["export", "--model-dir", model_dir, "--format", "onnx", "--out", str(tmp_path / "m.onnx")]) == 2
    assert not os.path.exists(tmp_path / "m.onnx")
