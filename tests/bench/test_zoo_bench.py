"""`bench --zoo` plumbing: ours measured per model, the twin's line parsed,
one row per model and size (a stand-in twin script: torch is never a test
dependency; the real twins run in docs/benchmarks.md)."""
import subprocess
import sys

from deepfm_gluon.bench.zoo import ZooConfig, bars_arrays, format_zoo_report, model_setup, run_zoo

FAKE_TWIN = """import sys
model = sys.argv[sys.argv.index('--model') + 1]
epochs = int(sys.argv[sys.argv.index('--epochs') + 1])
print(f'torch {model}: {1000 * epochs} examples/sec train, 2000 examples/sec predict')
"""


def test_zoo_rows_compare_ours_with_the_twins_line(tmp_path):
    twin = tmp_path / "twin.py"
    twin.write_text(FAKE_TWIN)
    zoo = ZooConfig(peer_python=sys.executable, twin_script=str(twin), models=("fm",), sizes=("book",),
                    repeats=1, threads=1, data_dir=str(tmp_path / "data"))
    report = run_zoo(zoo, log=lambda msg: None)
    [row] = report["rows"]
    assert (row["model"], row["size"], row["torchfm"]) == ("fm", "book", 1000.0)
    assert row["ours"] > 0 and abs(row["ratio"] - row["ours"] / 1000.0) < 1e-9
    assert "| fm | book |" in format_zoo_report(report)


def test_book_epochs_are_the_same_for_both_sides(tmp_path):
    twin = tmp_path / "twin.py"
    twin.write_text(FAKE_TWIN)
    zoo = ZooConfig(peer_python=sys.executable, twin_script=str(twin), models=("lr",), sizes=("book",),
                    book_epochs=2, repeats=1, threads=1, data_dir=str(tmp_path / "data"))
    report = run_zoo(zoo, log=lambda msg: None)
    assert report["rows"][0]["torchfm"] == 2000.0  # the twin was told --epochs 2
    assert "book size: 2 epoch(s) timed per side" in format_zoo_report(report)


def test_an_unknown_zoo_size_is_one_line(tmp_path):
    twin = tmp_path / "twin.py"
    twin.write_text(FAKE_TWIN)
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", "bench", "--zoo", "--peer-python", sys.executable,
                           "--twin-script", str(twin), "--sizes", "book,huge"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "--sizes takes book and/or bars, got book,huge" in proc.stderr and "Traceback" not in proc.stderr


def test_bars_setup_shares_only_the_hyperparameters_a_model_has(tmp_path):
    fm, batch, lr = model_setup("fm", "bars")
    deep, _, _ = model_setup("deepfm", "bars")
    assert fm == {"num_factors": 10} and (batch, lr) == (4096, 1e-3)
    assert deep == {"num_factors": 10, "mlp_dims": [400, 400, 400], "drop_rate": 0.1}
    import numpy as np
    data = np.load(bars_arrays(str(tmp_path / "b.npz"), batches=1))
    assert data["X"].shape == (4096, 39) and data["X"].max() < 39 * 65536


def test_zoo_without_a_peer_python_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", "bench", "--zoo"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "--peer-python" in proc.stderr and "Traceback" not in proc.stderr
