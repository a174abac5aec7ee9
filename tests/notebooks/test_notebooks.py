"""The chapter notebooks are built from their text sources (notebooks/NAME.md,
jupytext markdown) by `python notebooks/build.py`; CI executes the text source
that way, with `--quick` (2 epochs, 1 seed, the book's training cell at 2
epochs), in a kernel of this interpreter. The committed NAME.ipynb must hold
exactly the source's cells, so its outputs come from the text a diff shows.
Skipped where the [notebook] extra (jupytext, nbclient, ipykernel) is absent."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
HAS_JUPYTER = all(importlib.util.find_spec(m) for m in ("jupytext", "nbclient", "ipykernel"))
needs_jupyter = pytest.mark.skipif(not HAS_JUPYTER, reason="the [notebook] extra (jupytext, nbclient, "
                                                           "ipykernel) is not installed")
NAMES = ["fm", "deepfm"]


def code_cells(notebook):
    return [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
            for c in notebook["cells"] if c["cell_type"] == "code"]


@needs_jupyter
@pytest.mark.parametrize("name", NAMES)
def test_the_committed_notebook_is_its_text_source_executed(name):
    import jupytext
    source = jupytext.read(NOTEBOOKS / f"{name}.md")
    committed = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    assert code_cells(committed) == code_cells(source), f"notebooks/{name}.ipynb is stale: " \
                                                        "run python notebooks/build.py"
    assert all(c.get("execution_count") for c in committed["cells"] if c["cell_type"] == "code"), "not executed"


@needs_jupyter
@pytest.mark.parametrize("name", NAMES)
def test_the_text_source_runs_top_to_bottom(name, tmp_path):
    env = dict(os.environ, DEEPFM_GLUON_DATA=str(tmp_path / "data"))
    proc = subprocess.run([sys.executable, str(NOTEBOOKS / "build.py"), name, "--quick", "--out", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    notebook = json.loads((tmp_path / f"{name}.ipynb").read_text())
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert "epochs: 2, seeds: [0]" in text and "same outputs on all" in text
    # offline the stand-in announces itself (kept beside the curves); online it is the book's data
    assert "NOT the book's data" in text or (tmp_path / "data" / "ctr" / "train.csv").exists()
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)  # train_ch13's curves, inline


def test_quick_mode_shortens_exactly_the_books_training_cell():
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import build
    finally:
        sys.path.remove(str(NOTEBOOKS))
    nbformat = pytest.importorskip("nbformat")
    cells = [nbformat.v4.new_code_cell("lr, num_epochs, optimizer = 0.02, 30, 'adam'\nprint(num_epochs)"),
             nbformat.v4.new_code_cell("num_epochs = 30")]
    notebook = build.shorten_book_epochs(nbformat.v4.new_notebook(cells=cells))
    assert notebook.cells[0].source.startswith("lr, num_epochs, optimizer = 0.02, 2, 'adam'")
    assert notebook.cells[1].source == "num_epochs = 30"
    with pytest.raises(SystemExit, match="found 0"):
        build.shorten_book_epochs(nbformat.v4.new_notebook(cells=[cells[1]]))
