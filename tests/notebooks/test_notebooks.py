"""Both chapter notebooks execute top to bottom (with 2 epochs instead of 30)."""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("name", ["fm.ipynb", "deepfm.ipynb"])
def test_notebook_runs(name, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPFM_NOTEBOOK_EPOCHS", "2")
    monkeypatch.setenv("DEEPFM_GLUON_DATA", str(tmp_path / "data"))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=600, startup_timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "epochs: 2" in outputs and "Traceback" not in outputs
