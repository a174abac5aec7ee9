"""A seeded fuzz of `predict` on raw Criteo lines (issue 21): lines with a CR
inside a cell, bytes that are not UTF-8, NUL bytes, long cells, CRLF ends,
a column too few or too many, odd labels, blank lines. Every case must exit
0 with one output row per input line: ``nan`` exactly where a plain-Python
oracle calls the line malformed, and for every other line the probability
that line gets when it is scored alone (so no row belongs to another line)."""
import random

import numpy as np
import pytest

from deepfm_gluon.cli.main import main
from deepfm_gluon.data.criteo import CriteoOptions, CriteoSyntheticSpec, write_criteo_synthetic
from deepfm_gluon.data.sources import load_criteo_split
from deepfm_gluon.experiments.runner import train_model
from deepfm_gluon.serving import Predictor
from deepfm_gluon.serving.criteo_scoring import score_chunks
from deepfm_gluon.training import TrainConfig

SEED = 21
CASES = 8
LINES = 40  # at most 2 mutated lines a case: the label layout stays unambiguous (< 10%)


@pytest.fixture(scope="module")
def criteo_model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz-criteo")
    path = tmp / "day"
    write_criteo_synthetic(str(path), CriteoSyntheticSpec(num_rows=600, seed=8, max_cardinality=30))
    split = load_criteo_split(f"criteo:{path}", str(tmp / "d"), options=CriteoOptions(hash_buckets=31),
                              log=lambda m: None)
    train_model("fm", split, TrainConfig(epochs=1, batch_size=128, progress=False), out_dir=str(tmp / "m"),
                log=None)
    return str(tmp / "m"), open(path, "rb").read().split(b"\n")


def mutate(rng, line):
    cells = line.split(b"\t")
    kind = rng.choice(["cr", "bytes", "nul", "long", "crlf", "few", "many", "label", "blank", "empty_label"])
    cell = rng.randrange(1, len(cells))
    if kind == "cr":
        cells[cell] = cells[cell][:2] + b"\r" + cells[cell][2:]
    elif kind == "bytes":
        cells[cell] = bytes(rng.randrange(128, 256) for _ in range(rng.randrange(1, 12)))
    elif kind == "nul":
        cells[cell] = b"a\x00b"
    elif kind == "long":
        cells[cell] = b"z" * rng.randrange(9, 300)
    elif kind == "few":
        del cells[cell]
    elif kind == "many":
        cells.insert(cell, b"extra")
    elif kind == "label":
        cells[0] = rng.choice([b"x", b"2", b"-1", b"01", b"1.0", b" 1"])
    elif kind == "empty_label":
        cells[0] = b""
    elif kind == "blank":
        return b""
    out = b"\t".join(cells)
    return out + b"\r" if kind == "crlf" else out


def oracle_valid(line):
    """The format's rule, in plain Python: 40 TAB-separated cells, label 0 or 1."""
    line = line[:-1] if line.endswith(b"\r") else line
    cells = line.split(b"\t")
    return len(cells) == 40 and cells[0] in (b"0", b"1")


def test_fuzz_raw_criteo_predict(criteo_model, tmp_path, capsys):
    model, source = criteo_model
    predictor = Predictor(model)
    rng = random.Random(SEED)
    for case in range(CASES):
        lines = rng.sample(source[:500], LINES)
        for i in rng.sample(range(LINES), 2):
            lines[i] = mutate(rng, lines[i])
        path, out = tmp_path / f"in{case}.txt", tmp_path / f"out{case}.txt"
        path.write_bytes(b"\n".join(lines) + b"\n")
        assert main(["predict", "--model-dir", model, "--input", str(path), "--output", str(out)]) == 0
        assert "Traceback" not in capsys.readouterr().err
        got = np.loadtxt(out)
        assert len(got) == LINES, (case, lines)
        valid = np.array([oracle_valid(line) for line in lines])
        np.testing.assert_array_equal(~np.isnan(got), valid, err_msg=str(case))
        for i in np.flatnonzero(valid):
            alone = tmp_path / "alone.txt"
            alone.write_bytes(lines[i] + b"\n")
            want = np.concatenate([p for p, _ in score_chunks(predictor, str(alone))])
            np.testing.assert_allclose(got[i], want[0], atol=1e-6, err_msg=f"case {case}, line {i + 1}")
