"""--sparse is chosen when the embedding table exceeds AUTO_SPARSE_ROWS rows,
with one line saying so; --no-sparse and --sparse are obeyed; small tables stay dense."""
import dataclasses

from deepfm_gluon.cli.parser import build_parser
from deepfm_gluon.experiments.runner import resolve_updates
from deepfm_gluon.training.config import AUTO_SPARSE_ROWS, RunSpec, TrainConfig

AUTO = TrainConfig(epochs=1, progress=False, devices="cpu", sparse=None)
BIG = [AUTO_SPARSE_ROWS // 2, AUTO_SPARSE_ROWS // 2 + 1]
SMALL = [AUTO_SPARSE_ROWS // 2, AUTO_SPARSE_ROWS // 2]


def resolved(spec, dims):
    lines = []
    out = resolve_updates(spec, dims, lines.append)
    return out, lines


def test_a_table_over_the_threshold_gets_sparse_updates_and_one_line():
    spec, lines = resolved(RunSpec(config=AUTO), BIG)
    assert spec.config.sparse is True and len(lines) == 1
    assert f"{sum(BIG):,} rows" in lines[0] and "sparse updates" in lines[0] and "--no-sparse" in lines[0]


def test_a_table_at_the_threshold_stays_dense_silently():
    spec, lines = resolved(RunSpec(config=AUTO), SMALL)
    assert spec.config.sparse is False and lines == []


def test_explicit_choices_are_obeyed_whatever_the_size():
    for choice in (True, False):
        spec, lines = resolved(RunSpec(config=dataclasses.replace(AUTO, sparse=choice)), BIG if not choice else SMALL)
        assert spec.config.sparse is choice and lines == []


def test_when_sparse_cannot_run_the_line_says_why_and_training_stays_dense():
    spec, lines = resolved(RunSpec(config=dataclasses.replace(AUTO, book_compat=True)), BIG)
    assert spec.config.sparse is False and "dense updates" in lines[0] and "book-compat" in lines[0]
    spec.validate()


def test_flags_parse_to_three_states():
    parse = build_parser().parse_args
    assert parse(["train"]).sparse is None
    assert parse(["train", "--sparse"]).sparse is True
    assert parse(["train", "--no-sparse"]).sparse is False
