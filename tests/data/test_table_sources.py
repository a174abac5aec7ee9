"""Avazu and any CSV table through the data-source registry: train, evaluate,
predict on raw lines (exactly the trained net's probabilities, row for row),
prepare and cache reuse, hashing; bad schemas and names in one line."""
import datetime
import json
import os

import numpy as onp
import pytest
from mxnet import np

from deepfm_gluon.cli.main import main
from deepfm_gluon.data.avazu_synthetic import AvazuSyntheticSpec, write_avazu_synthetic
from deepfm_gluon.data.table import cache as cache_module
from deepfm_gluon.data.sources import DataOptions, load_split, prepare_cache, source_names
from deepfm_gluon.data.tokens import apply_transform
from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.experiments.runner import train_model
from deepfm_gluon.serving import Predictor
from deepfm_gluon.serving.criteo_scoring import score_chunks
from deepfm_gluon.training import TrainConfig

ROWS = 1200


@pytest.fixture(scope="module")
def avazu_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("avazu") / "train.csv"
    bad = write_avazu_synthetic(str(path), AvazuSyntheticSpec(num_rows=ROWS, seed=2, max_cardinality=60,
                                                              bad_every=101))
    return str(path), bad


def csv_copy(avazu, folder, header=True):
    """The Avazu lines as another table: ';'-separated, the label 'y' last,
    C14 and C17 as numbers; with or without a header line."""
    lines = open(avazu).read().rstrip("\n").split("\n")
    out = []
    for line in lines:
        cells = line.split(",")
        if len(cells) == 24:
            cells = cells[2:] + [cells[1] if cells[1] != "click" else "y"]
        out.append(";".join(cells))
    path = os.path.join(folder, "table.csv" if header else "bare.csv")
    with open(path, "w") as f:
        f.write("\n".join(out[0 if header else 1:]) + "\n")
    return path


def expected_rows(num_lines, bad_data_lines, probs):
    out = onp.full(num_lines, onp.nan)
    good = onp.ones(num_lines, dtype=bool)
    good[onp.asarray(bad_data_lines, dtype=int)] = False
    out[good] = probs
    return out


def trained_probs(data, data_dir, out, options):
    split = load_split(data, data_dir=data_dir, options=options, log=lambda m: None)
    net, _, _ = train_model("fm", split, TrainConfig(epochs=1, batch_size=128, progress=False),
                            out_dir=out, log=None)
    features = onp.concatenate([onp.asarray(split.train.features), onp.asarray(split.test.features)])
    return split, net(np.array(features, dtype="int32")).asnumpy().ravel()


@pytest.mark.parametrize("buckets", [0, 61])
def test_avazu_scores_raw_lines_as_trained(avazu_file, tmp_path, buckets, capsys):
    path, bad = avazu_file
    split, probs = trained_probs(f"avazu:{path}", str(tmp_path / "d"), str(tmp_path / "m"),
                                 DataOptions(hash_buckets=buckets))
    assert len(split.train) + len(split.test) == ROWS - len(bad) and len(split.train.field_dims) == 23
    encoder = json.loads((tmp_path / "m" / "encoder.json").read_text())
    assert encoder["table"]["source"] == "avazu" and [(f["name"], f["transform"]) for f in encoder["fields"][:3]] \
        == [("hour", "hour_of_day"), ("weekday", "weekday"), ("C1", "identity")]
    assert main(["predict", "--model-dir", str(tmp_path / "m"), "--input", f"avazu:{path}",
                 "--output", str(tmp_path / "p.txt")]) == 0
    got = onp.loadtxt(tmp_path / "p.txt")
    onp.testing.assert_allclose(got, expected_rows(ROWS, [b - 2 for b in bad], probs), atol=1e-6)
    assert f"skipped {len(bad)} of {ROWS}" in capsys.readouterr().out
    unlabelled = tmp_path / "test.csv"  # Kaggle's test.csv: no click column
    unlabelled.write_text("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 1)
                                    for line in open(path).read().rstrip("\n").split("\n")) + "\n")
    again = onp.concatenate([p for p, _ in score_chunks(Predictor(str(tmp_path / "m")), str(unlabelled))])
    keep = ~onp.isnan(got)
    onp.testing.assert_allclose(again[keep], got[keep], atol=1e-6)
    assert main(["evaluate", "--model-dir", str(tmp_path / "m"), "--data", path, "--json"]) == 0
    assert f'"examples": {ROWS - len(bad)}' in capsys.readouterr().out


def test_hour_becomes_hour_of_day_and_weekday_as_fuxictr_does():
    raw = ["14102100", "14102913", "14103023", "1410", "14023100"]
    weekdays = [str(datetime.datetime.strptime("20" + r[:6], "%Y%m%d").weekday()) for r in raw[:3]]
    assert list(apply_transform("hour_of_day", raw)) == ["00", "13", "23", "?1410", "?14023100"]
    assert list(apply_transform("weekday", raw)) == weekdays + ["?1410", "?14023100"]


def test_prepare_then_train_reuses_the_cache(avazu_file, tmp_path, capsys, monkeypatch):
    path, _ = avazu_file
    data_dir = str(tmp_path / "d")
    assert main(["prepare", "--data", f"avazu:{path}", "--data-dir", data_dir, "--hash-buckets", "50"]) == 0
    assert "1150 features" in capsys.readouterr().out  # 23 fields of 50 buckets
    monkeypatch.setattr(cache_module, "build_cache", lambda *a: (_ for _ in ()).throw(AssertionError))
    folder, meta = prepare_cache(f"avazu:{path}", data_dir, DataOptions(hash_buckets=50))
    assert meta["field_dims"] == [50] * 23 and os.path.dirname(folder).endswith("avazu-cache")
    split = load_split(f"avazu:{path}", data_dir=data_dir, options=DataOptions(hash_buckets=50))
    assert split.train.folder == folder


@pytest.mark.parametrize("header", [True, False])
def test_csv_with_a_schema_trains_and_scores(avazu_file, tmp_path, header, capsys):
    table = csv_copy(avazu_file[0], str(tmp_path), header)
    names = ("C1,banner_pos,site_id,app_id,device_model", "C14,C17") if header else ("2,3,4,7,12", "15,18")
    label = "y" if header else "23"
    flags = ["--label", label, "--categorical", names[0], "--numeric", names[1], "--sep", ";"]
    flags += [] if header else ["--no-header"]
    out = tmp_path / "m"
    assert main(["train", "--model", "fm", "--data", f"csv:{table}", "--data-dir", str(tmp_path / "d"),
                 *flags, "--epochs", "1", "--batch-size", "128", "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "7 fields" in text and text.count("train /") == 1
    options = DataOptions(label=label, categorical=tuple(names[0].split(",")), numeric=tuple(names[1].split(",")),
                          sep=";", header=header)
    split = load_split(f"csv:{table}", data_dir=str(tmp_path / "d"), options=options)
    assert split.train.encoder.transforms == ["identity"] * 5 + ["criteo_integer"] * 2
    assert main(["predict", "--model-dir", str(out), "--input", f"csv:{table}", "--output",
                 str(tmp_path / "p.txt")]) == 0
    got = onp.loadtxt(tmp_path / "p.txt")
    assert len(got) == ROWS and onp.isnan(got).sum() == len(avazu_file[1])
    scores = Predictor(str(out)).evaluate_file(table)
    assert scores["examples"] == ROWS - len(avazu_file[1])


def test_bad_names_and_schemas_are_one_line(avazu_file, tmp_path, capsys):
    table = csv_copy(avazu_file[0], str(tmp_path))
    base = ["train", "--epochs", "1", "--no-progress", "--data-dir", str(tmp_path / "d"), "--out"]
    assert main([*base, str(tmp_path / "a"), "--data", "parquet:/x"]) == 2
    err = capsys.readouterr().err
    assert "unknown 'parquet'" in err and all(name in err for name in ("avazu:PATH", "criteo:PATH", "csv:PATH"))
    assert main([*base, str(tmp_path / "b"), "--data", f"csv:{table}", "--label", "y",
                 "--categorical", "C1,nope", "--sep", ";"]) == 2
    err = capsys.readouterr().err
    assert "'nope'" in err and len(err.strip().splitlines()) == 1
    assert main([*base, str(tmp_path / "c"), "--data", f"csv:{table}", "--label", "y"]) == 2
    assert "needs a schema" in capsys.readouterr().err
    assert main([*base, str(tmp_path / "e"), "--data", f"avazu:{avazu_file[0]}", "--label", "x"]) == 2
    assert "--label applies to --data csv:PATH only" in capsys.readouterr().err
    with pytest.raises(DeepFMError, match="--hash-buckets applies"):
        load_split("synthetic", options=DataOptions(hash_buckets=10))


def test_every_source_is_one_file_with_a_source_spec():
    assert {"avazu", "criteo", "csv", "ctr", "folder", "synthetic"} <= set(source_names())


def test_launch_builds_the_cache_of_any_table_source_once(avazu_file, tmp_path, monkeypatch):
    from deepfm_gluon.cli.launch_cmd import prepare_data_once
    path, _ = avazu_file
    said = []
    prepare_data_once(["train", "--data", f"avazu:{path}", "--data-dir", str(tmp_path), "--hash-buckets", "40"],
                      log=said.append)
    assert len(said) == 1 and said[0].startswith("avazu cache ready in")
    monkeypatch.setattr(cache_module, "build_cache", lambda *a: (_ for _ in ()).throw(AssertionError))
    folder, _ = prepare_cache(f"avazu:{path}", str(tmp_path), DataOptions(hash_buckets=40))  # the workers' view
    assert folder in said[0]


def test_serve_places_raw_avazu_lines_into_fields(avazu_file, tmp_path):
    """POST /predict with raw Avazu lines (text/csv: header skipped, with or
    without click) answers what `predict` writes for the same lines."""
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    from tests.serving.serve_process import Server
    path, bad = avazu_file
    trained_probs(f"avazu:{path}", str(tmp_path / "d"), str(tmp_path / "m"), DataOptions())
    lines = [line for line in open(path).read().split("\n")[1:60] if line.count(",") == 23][:30]
    sample = tmp_path / "sample.csv"
    sample.write_text(open(path).readline() + "\n".join(lines) + "\n")
    assert main(["predict", "--model-dir", str(tmp_path / "m"), "--input", str(sample),
                 "--output", str(tmp_path / "p.txt")]) == 0
    want = onp.loadtxt(tmp_path / "p.txt")
    bare = [",".join(c for i, c in enumerate(line.split(",")) if i != 1) for line in lines]
    server = Server(str(tmp_path / "m"), "--max-wait-ms", "20")
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for body in (sample.read_text(), "\n".join(lines), "\n".join(bare)):
                answer = client.post("/predict", content=body, headers={"content-type": "text/csv"})
                assert answer.status_code == 200, answer.text
                onp.testing.assert_allclose(answer.json()["probabilities"], want, atol=1e-5)
            answer = client.post("/predict", content="1,2,3\n", headers={"content-type": "text/csv"})
            assert answer.status_code == 422 and "line 1: 3 ','-separated columns" in answer.json()["error"]
    finally:
        server.stop()
