"""A Criteo model scores raw Criteo lines (TSV or CSV with a header, with or
without the label) with exactly the probabilities of the net in the training
process, one output row per input line, streamed in bounded chunks."""
import os

import numpy as onp
import pytest
from mxnet import np

from deepfm_gluon.cli.main import main
from deepfm_gluon.data.criteo import FIELD_NAMES, CriteoOptions, CriteoSyntheticSpec, write_criteo_synthetic
from deepfm_gluon.data.sources import load_criteo_split
from deepfm_gluon.experiments.runner import train_model
from deepfm_gluon.serving import Predictor
from deepfm_gluon.serving import criteo_scoring
from deepfm_gluon.training import TrainConfig

BAD_EVERY = 97


@pytest.fixture(scope="module")
def criteo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("raw") / "day_0"
    bad = write_criteo_synthetic(str(path), CriteoSyntheticSpec(num_rows=900, seed=3, max_cardinality=60,
                                                                bad_every=BAD_EVERY))
    return str(path), bad


@pytest.fixture(scope="module", params=["vocabulary", "hashing"])
def trained(request, criteo_file, tmp_path_factory):
    """(model dir, the training process's probabilities for every valid line, in file order)."""
    path, _ = criteo_file
    tmp = tmp_path_factory.mktemp(request.param)
    options = CriteoOptions(hash_buckets=53 if request.param == "hashing" else 0)
    split = load_criteo_split(f"criteo:{path}", str(tmp / "data"), options=options, log=lambda m: None)
    net, _, _ = train_model("deepfm", split, TrainConfig(epochs=1, batch_size=128, progress=False),
                            out_dir=str(tmp / "model"), log=None)
    features = onp.concatenate([onp.asarray(split.train.features), onp.asarray(split.test.features)])
    expected = net(np.array(features, dtype="int32")).asnumpy().ravel()
    return str(tmp / "model"), expected


def raw_lines(path):
    return open(path).read().split("\n")


def expected_rows(lines, bad, expected):
    """Output row i for input line i: NaN for the malformed lines."""
    out = onp.full(len(lines), onp.nan)
    good = onp.ones(len(lines), dtype=bool)
    good[onp.asarray(bad) - 1] = False
    out[good] = expected
    return out


def test_predict_tsv_equals_the_trained_net_row_for_row(trained, criteo_file, tmp_path, capsys):
    model, expected = trained
    path, bad = criteo_file
    assert main(["predict", "--model-dir", model, "--input", path, "--output", str(tmp_path / "p.txt")]) == 0
    got = onp.loadtxt(tmp_path / "p.txt")
    assert len(got) == 900 and "skipped 9 of 900" in capsys.readouterr().out
    onp.testing.assert_allclose(got, expected_rows(raw_lines(path), bad, expected), atol=1e-6)


def test_csv_with_header_and_unlabelled_lines_score_alike(trained, criteo_file, tmp_path):
    model, expected = trained
    path, bad = criteo_file
    lines = raw_lines(path)
    csv = tmp_path / "sample.csv"  # DeepCTR's layout: commas and a header, integers written as floats
    csv.write_text("\n".join([",".join(["label"] + FIELD_NAMES)] + [
        ",".join(c + ".0" if 1 <= i <= 13 and c not in ("", "-1") and c.lstrip("-").isdigit() else c
                 for i, c in enumerate(line.split("\t"))) for line in lines]) + "\n")
    test_txt = tmp_path / "test.txt"  # Kaggle's test.txt: no label column
    test_txt.write_text("\n".join(line.split("\t", 1)[1] if line.count("\t") == 39 else line
                                  for line in lines))
    want = expected_rows(lines, bad, expected)
    predictor = Predictor(model)
    for source in (csv, test_txt):
        got = onp.concatenate([p for p, _ in criteo_scoring.score_chunks(predictor, str(source),
                                                                         chunk_lines=128)])
        unlabelled_ok = onp.isnan(want) & ~onp.isnan(got)  # a bad label is a fine unlabelled line
        onp.testing.assert_allclose(got[~unlabelled_ok], want[~unlabelled_ok], atol=1e-6)


def test_streaming_works_a_bounded_chunk_at_a_time(trained, criteo_file, monkeypatch):
    model, expected = trained
    path, bad = criteo_file
    predictor = Predictor(model)
    sizes = []
    score = predictor.predict_features
    monkeypatch.setattr(predictor, "predict_features", lambda f: (sizes.append(len(f)), score(f))[1])
    got = onp.concatenate([p for p, _ in criteo_scoring.score_chunks(predictor, path, chunk_lines=50)])
    assert len(sizes) == 18 and max(sizes) <= 50  # 900 lines: 18 chunks, never more than 50 rows held
    onp.testing.assert_allclose(got, expected_rows(raw_lines(path), bad, expected), atol=1e-6)


def test_evaluate_a_criteo_file(trained, criteo_file, capsys):
    model, expected = trained
    path, _ = criteo_file
    assert main(["evaluate", "--model-dir", model, "--data", f"criteo:{path}", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"examples": 891' in out and '"skipped_lines": 9' in out
    assert main(["evaluate", "--model-dir", model, "--data", path, "--strict"]) == 2
    err = capsys.readouterr().err
    assert path in err and str(BAD_EVERY) in err and "Traceback" not in err


def test_a_real_deepctr_sample_is_scored(trained, tmp_path):
    model, _ = trained
    sample = "/work/shared/data/criteo/deepctr_criteo_sample.txt"

    if not os.path.exists(sample):
        pytest.skip("no DeepCTR sample on this machine")
    probs = onp.concatenate([p for p, _ in criteo_scoring.score_chunks(Predictor(model), sample)])
    assert len(probs) == sum(1 for _ in open(sample)) - 1 and onp.all((probs > 0) & (probs < 1))
