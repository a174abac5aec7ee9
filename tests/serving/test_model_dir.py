"""A saved model scores files exactly as the trained net does in Python, and
a directory that is not what it claims is refused with a clear error."""
import json
import os

import numpy as onp
import pytest
from mxnet import np

from deepfm_gluon.data import VocabularyEncoder
from deepfm_gluon.errors import ModelDirError
from deepfm_gluon.gluon_compat import params_by_structural_name
from deepfm_gluon.models import get_spec
from deepfm_gluon.experiments.runner import train_model
from deepfm_gluon.serving import Predictor, load_model_dir
from deepfm_gluon.training import TrainConfig


@pytest.fixture(scope="module")
def trained(small_split, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("model"))
    net, history, _ = train_model("deepfm", small_split, TrainConfig(epochs=2, progress=False), out_dir=out, log=None)
    return net, out


def test_directory_contents(trained):
    _, out = trained
    assert {"model.params", "meta.json", "encoder.json", "mapping.json", "history.json",
            "curves.png"} <= set(os.listdir(out))
    meta = json.load(open(os.path.join(out, "meta.json")))
    assert meta["kind"] == "deepfm" and meta["model_config"]["mlp_dims"] == [30, 20, 10]


def test_predictions_equal_the_trained_net(trained, small_split):
    net, out = trained
    predictor = Predictor(out)
    features, labels, _ = predictor.read(small_split.test.data_path)
    onp.testing.assert_array_equal(features, small_split.test.features)
    expected = net(np.array(small_split.test.features, dtype="int32")).asnumpy().ravel()
    onp.testing.assert_allclose(predictor.predict_features(features), expected, atol=1e-6)
    scores = predictor.evaluate_file(small_split.test.data_path)
    assert scores["examples"] == len(small_split.test) and 0.5 < scores["auc"] <= 1


def test_loading_for_scoring_holds_gluons_values_once_without_gradients(trained):
    """The oracle is Gluon's own load_parameters into a fresh net."""
    _, out = trained
    net, meta, _ = load_model_dir(out)
    reference = get_spec("deepfm").block(**meta["model_config"])
    reference.load_parameters(os.path.join(out, "model.params"))
    ours, gluons = params_by_structural_name(net), params_by_structural_name(reference)
    assert sorted(ours) == sorted(gluons)
    for name, param in ours.items():
        assert param.grad_req == "null" and len(param.list_data()) == 1, name
        onp.testing.assert_array_equal(param.data().asnumpy(), gluons[name].data().asnumpy(), err_msg=name)


def test_unlabelled_input_reads(trained, small_split, tmp_path):
    _, out = trained
    lines = open(small_split.test.data_path).read().splitlines()[:20]
    path = tmp_path / "nolabel.csv"
    path.write_text("\n".join(line.split("\t", 1)[1] for line in lines) + "\n")
    features, labels, _ = Predictor(out).read(str(path))
    assert labels is None
    onp.testing.assert_array_equal(features, small_split.test.features[:20])


def test_saved_encoder_is_the_training_encoder(trained, small_split):
    _, out = trained
    encoder = VocabularyEncoder.load(os.path.join(out, "encoder.json"))
    assert encoder == small_split.train.encoder
    mapping = json.load(open(os.path.join(out, "mapping.json")))
    assert {int(k): v for k, v in mapping["feat_mapper"].items()} == small_split.train.feat_mapper
    assert {int(k): v for k, v in mapping["defaults"].items()} == small_split.train.defaults


def test_old_model_dir_with_mapping_json_only_still_loads(trained, small_split, tmp_path):
    """Directories written before encoder.json existed hold mapping.json alone."""
    net, out = trained
    old = copy_dir(out, str(tmp_path / "old"))
    os.remove(os.path.join(old, "encoder.json"))
    predictor = Predictor(old)
    assert predictor.encoder == small_split.train.encoder
    features, labels, _ = predictor.read(small_split.test.data_path)
    onp.testing.assert_array_equal(features, small_split.test.features)
    expected = net(np.array(small_split.test.features, dtype="int32")).asnumpy().ravel()
    onp.testing.assert_allclose(predictor.predict_features(features), expected, atol=1e-6)


def test_encoder_that_does_not_fit_the_model_is_refused(trained, tmp_path):
    _, out = trained
    other = copy_dir(out, str(tmp_path / "enc"))
    path = os.path.join(other, "encoder.json")
    data = json.load(open(path))
    data["fields"] = data["fields"][:-1]
    json.dump(data, open(path, "w"))
    with pytest.raises(ModelDirError, match="encoder for 34 fields, found 33"):
        load_model_dir(other)
    data["format_version"] = 7
    json.dump(data, open(path, "w"))
    with pytest.raises(ModelDirError, match="encoder.json: encoder format version 7"):
        load_model_dir(other)


def copy_dir(src, dst):
    os.makedirs(dst)
    for name in os.listdir(src):
        with open(os.path.join(src, name), "rb") as f, open(os.path.join(dst, name), "wb") as g:
            g.write(f.read())
    return dst


def edit_meta(folder, **changes):
    path = os.path.join(folder, "meta.json")
    meta = json.load(open(path))
    meta.update(changes)
    json.dump(meta, open(path, "w"))


def test_wrong_kind_version_and_shapes_are_refused(trained, tmp_path):
    _, out = trained
    with pytest.raises(ModelDirError, match="holds a deepfm model, not fm"):
        load_model_dir(out, expected_kind="fm")
    other = copy_dir(out, str(tmp_path / "v2"))
    edit_meta(other, format_version=2)
    with pytest.raises(ModelDirError, match="format version 2"):
        load_model_dir(other)
    kind = copy_dir(out, str(tmp_path / "kind"))
    edit_meta(kind, kind="fm", model_config={"field_dims": json.load(open(os.path.join(out, "meta.json")))["model_config"]["field_dims"], "num_factors": 20})
    with pytest.raises(ModelDirError, match="does not fit the fm"):
        load_model_dir(kind)
    with pytest.raises(ModelDirError, match="missing"):
        load_model_dir(str(tmp_path))


def test_params_with_wrong_shapes_are_refused(trained, tmp_path):
    _, out = trained
    other = copy_dir(out, str(tmp_path / "shapes"))
    meta = json.load(open(os.path.join(other, "meta.json")))
    meta["model_config"]["field_dims"] = [d + 1 for d in meta["model_config"]["field_dims"]]
    json.dump(meta, open(os.path.join(other, "meta.json"), "w"))
    with pytest.raises(ModelDirError, match="does not fit the deepfm"):
        load_model_dir(other)


@pytest.mark.parametrize("damage", ["cut", "negative_shape", "huge_name", "folder"])
def test_damaged_params_are_refused_in_one_line(trained, tmp_path, damage):
    """model.params is read a slice at a time; a damaged one is a ModelDirError, not a traceback."""
    _, out = trained
    other = copy_dir(out, str(tmp_path / damage))
    path = os.path.join(other, "model.params")
    data = bytearray(open(path, "rb").read())
    if damage == "cut":
        data = data[: len(data) // 2]
    elif damage == "negative_shape":  # the first array's first dimension
        data[36:44] = (-5).to_bytes(8, "little", signed=True)
    elif damage == "huge_name":  # the last name's length field
        last = data.rindex(b"embedding.weight") if b"embedding.weight" in data else len(data) - 8
        data[last - 8:last] = (1 << 44).to_bytes(8, "little")
    if damage == "folder":
        os.remove(path)
        os.mkdir(path)
    else:
        open(path, "wb").write(bytes(data))
    with pytest.raises(ModelDirError, match="model.params"):
        load_model_dir(other)


def test_corrupt_meta_is_refused(trained, tmp_path):
    _, out = trained
    other = copy_dir(out, str(tmp_path / "corrupt"))
    open(os.path.join(other, "meta.json"), "w").write("{not json")
    with pytest.raises(ModelDirError, match="not valid JSON"):
        load_model_dir(other)


def test_the_encoders_table_decides_the_raw_line_scoring_path(trained, tmp_path):
    """Changed deliberately (issue 19): the encoder's recorded table schema,
    not meta.json's --data string, says a model reads raw table lines."""
    _, out = trained  # raw table scoring itself: tests/serving/test_criteo_scoring.py
    named = copy_dir(out, str(tmp_path / "named"))
    edit_meta(named, data="criteo:/somewhere/train.txt")
    tabled = copy_dir(out, str(tmp_path / "tabled"))
    path = os.path.join(tabled, "encoder.json")
    encoder = json.load(open(path))
    encoder["table"] = {"source": "csv", "label": "y", "columns": None, "sep": None, "header": True,
                        "field_columns": [f"c{i}" for i in range(len(encoder["fields"]))]}
    open(path, "w").write(json.dumps(encoder))
    assert Predictor(tabled).table.source == "csv"
    assert Predictor(out).table is None and Predictor(named).table is None
