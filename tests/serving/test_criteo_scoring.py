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
from deepfm_gluon.errors import DataFormatError
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


# Issue 21, items 3-6 and 13: scoring reads lines exactly as training does.

def odd_lines(path):
    """The fixture's lines (bytes), with a CR inside a cell, and short and
    long cells that are not UTF-8, each on enough lines to enter a vocabulary."""
    lines = open(path, "rb").read().split(b"\n")
    for i, line in enumerate(lines):
        cells = line.split(b"\t")
        if len(cells) != 40:
            continue
        if i % 5 == 1:
            cells[16] = b"\xff\xfe" + bytes([97 + i % 2])  # short, not UTF-8
        elif i % 5 == 2:
            cells[17] = b"long-\xff-cell-" + str(i % 3).encode()  # long (hashed key), not UTF-8
        elif i % 5 == 3:
            cells[18] = b"a\rb" if i % 2 else b"\rcd"  # a CR inside a cell is no line end
        lines[i] = b"\t".join(cells)
    return lines


@pytest.fixture(scope="module", params=["vocabulary", "hashing"])
def odd_trained(request, criteo_file, tmp_path_factory):
    path, bad = criteo_file
    tmp = tmp_path_factory.mktemp("odd-" + request.param)
    odd = tmp / "odd.txt"
    odd.write_bytes(b"\n".join(odd_lines(path)))
    options = CriteoOptions(hash_buckets=53 if request.param == "hashing" else 0)
    split = load_criteo_split(f"criteo:{odd}", str(tmp / "data"), options=options, log=lambda m: None)
    assert len(split.train) + len(split.test) == 900 - len(bad)  # training: one line each
    net, _, _ = train_model("deepfm", split, TrainConfig(epochs=1, batch_size=128, progress=False),
                            out_dir=str(tmp / "model"), log=None)
    features = onp.concatenate([onp.asarray(split.train.features), onp.asarray(split.test.features)])
    return str(odd), str(tmp / "model"), net(np.array(features, dtype="int32")).asnumpy().ravel(), bad


def test_cr_in_a_cell_and_bytes_that_are_not_utf8_score_as_trained(odd_trained, tmp_path, capsys):
    """Items 3 and 6: 900 rows for 900 lines, each the trained net's probability."""
    path, model, expected, bad = odd_trained
    assert main(["predict", "--model-dir", model, "--input", path, "--output", str(tmp_path / "p.txt")]) == 0
    got = onp.loadtxt(tmp_path / "p.txt")
    assert len(got) == 900 and "skipped 9 of 900" in capsys.readouterr().out
    want = onp.full(900, onp.nan)
    good = onp.ones(900, dtype=bool)
    good[onp.asarray(bad) - 1] = False
    want[good] = expected
    onp.testing.assert_allclose(got, want, atol=1e-6)


def five_lines(path):
    return [line for line in open(path).read().split("\n") if line.count("\t") == 39][:5]


def test_a_first_label_x_is_a_malformed_line_not_a_header(trained, criteo_file, tmp_path, capsys):
    """Item 4: line 1 of a headerless file with the label 'x' is reported, not skipped as a header."""
    model, _ = trained
    lines = five_lines(criteo_file[0])
    clean, odd = tmp_path / "clean.tsv", tmp_path / "x.tsv"
    clean.write_text("\n".join(lines) + "\n")
    odd.write_text("\n".join(["x" + lines[0][1:]] + lines[1:]) + "\n")
    want = onp.concatenate([p for p, _ in criteo_scoring.score_chunks(Predictor(model), str(clean))])
    assert main(["predict", "--model-dir", model, "--input", str(odd), "--output", str(tmp_path / "p.txt")]) == 0
    got = onp.loadtxt(tmp_path / "p.txt")
    assert len(got) == 5 and onp.isnan(got[0]) and "line 1 (label 'x')" in capsys.readouterr().out
    onp.testing.assert_allclose(got[1:], want[1:], atol=1e-7)
    scores = Predictor(model).evaluate_file(str(odd))
    assert scores["examples"] == 4 and scores["skipped_lines"] == 1


def test_the_label_column_is_decided_over_the_whole_file(trained, criteo_file, tmp_path):
    """Item 5: a labelled file whose line 1 lacks a column: line 1 is the
    malformed one; as for d2l-format files, a minority layout over 10% of the
    lines is refused in one line rather than guessed."""
    model, _ = trained
    lines = [line for line in open(criteo_file[0]).read().split("\n") if line.count("\t") == 39][:20]
    short = tmp_path / "short.tsv"
    short.write_text("\n".join([lines[0].rsplit("\t", 1)[0]] + lines[1:]) + "\n")
    clean = tmp_path / "clean.tsv"
    clean.write_text("\n".join(lines) + "\n")
    predictor = Predictor(model)
    want = onp.concatenate([p for p, _ in criteo_scoring.score_chunks(predictor, str(clean))])
    got = onp.concatenate([p for p, _ in criteo_scoring.score_chunks(predictor, str(short))])
    assert onp.isnan(got[0]) and not onp.isnan(got[1:]).any()
    onp.testing.assert_allclose(got[1:], want[1:], atol=1e-7)
    assert predictor.evaluate_file(str(short))["examples"] == 19
    short.write_text("\n".join([lines[0].rsplit("\t", 1)[0]] + lines[1:5]) + "\n")
    with pytest.raises(DataFormatError, match="cannot tell whether there is a label column: 4 lines"):
        predictor.evaluate_file(str(short))


def test_every_source_prefix_is_accepted_where_a_path_is(trained, criteo_file, tmp_path):
    """Item 13: predict --input criteo:F reads F, as evaluate --data criteo:F does."""
    model, _ = trained
    path, _ = criteo_file
    assert main(["predict", "--model-dir", model, "--input", f"criteo:{path}",
                 "--output", str(tmp_path / "a.txt")]) == 0
    assert main(["predict", "--model-dir", model, "--input", path, "--output", str(tmp_path / "b.txt")]) == 0
    assert (tmp_path / "a.txt").read_bytes() == (tmp_path / "b.txt").read_bytes()
