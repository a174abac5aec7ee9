"""The Criteo cache is built reading the text once, and `prepare` builds it
up front where training (and a launcher's workers) then find it."""
import numpy as onp

from deepfm_gluon.cli.main import main
from deepfm_gluon.data.criteo import CriteoOptions, CriteoSyntheticSpec, open_cache, write_criteo_synthetic
from deepfm_gluon.data.table import cache as cache_module
from deepfm_gluon.data.table import reader
from deepfm_gluon.data.sources import load_split, prepare_criteo_cache



def test_the_file_is_read_once(tmp_path, monkeypatch):
    path = tmp_path / "day"
    write_criteo_synthetic(str(path), CriteoSyntheticSpec(num_rows=2000, seed=4, max_cardinality=40, bad_every=61))
    opened = []
    real_open = open

    def counting_open(file, mode="r", *args, **kwargs):
        if str(file) == str(path) and "b" in mode:
            opened.append(mode)
        return real_open(file, mode, *args, **kwargs)
    monkeypatch.setattr("builtins.open", counting_open)
    blocks = []
    real_blocks = reader._blocks
    monkeypatch.setattr(reader, "_blocks", lambda *a: blocks.append(a) or real_blocks(*a))
    open_cache(str(path), str(tmp_path / "cache"), CriteoOptions(chunk_bytes=1 << 14))
    assert len(blocks) == 1  # one pass over the text...
    assert len(opened) == 2  # ...plus format detection's read of line 1


def test_row_lines_find_the_cut_like_a_plain_search():
    rng = onp.random.default_rng(0)
    lines = onp.sort(rng.choice(5000, size=4000, replace=False))  # valid lines, with gaps
    row_lines = cache_module.RowLines()
    first_row = 0
    for part in onp.array_split(lines, 37):
        row_lines.add(first_row, part)
        first_row += len(part)
    consecutive = cache_module.RowLines()
    consecutive.add(0, onp.arange(100, 200))
    consecutive.add(100, onp.arange(200, 300))
    for cut in [0, 1, 17, 2500, 4999, 5000, 6000]:
        assert row_lines.rows_before(cut) == int(onp.searchsorted(lines, cut))
        assert consecutive.rows_before(cut) == int(onp.searchsorted(onp.arange(100, 300), cut))


def test_prepare_builds_the_cache_that_training_then_opens(tmp_path, capsys, monkeypatch):
    path = tmp_path / "day"
    write_criteo_synthetic(str(path), CriteoSyntheticSpec(num_rows=1000, seed=5, max_cardinality=40))
    assert main(["prepare", "--data", f"criteo:{path}", "--data-dir", str(tmp_path / "d")]) == 0
    assert "900 train / 100 test rows" in capsys.readouterr().out
    folder, meta = prepare_criteo_cache(f"criteo:{path}", str(tmp_path / "d"))  # found, not rebuilt
    monkeypatch.setattr(cache_module, "build_cache", lambda *a: (_ for _ in ()).throw(AssertionError))
    split = load_split(f"criteo:{path}", data_dir=str(tmp_path / "d"))
    assert split.train.folder == folder and not split.train.features.flags.writeable
    assert main(["prepare", "--data", "synthetic"]) == 2
