"""Both chapter notebooks execute top to bottom with the `[notebook]` extra's
`jupyter nbconvert --execute` and the installed python3 kernel, as a reader
runs them (with 2 epochs instead of 30), on a kernel installed for this
interpreter. Skipped where jupyter is absent."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
HAS_JUPYTER = all(importlib.util.find_spec(m) for m in ("jupyter_core", "nbconvert", "ipykernel"))


@pytest.mark.skipif(not HAS_JUPYTER, reason="the [notebook] extra (jupyter nbconvert, ipykernel) is not installed")
@pytest.mark.parametrize("name", ["fm.ipynb", "deepfm.ipynb"])
def test_notebook_runs_with_jupyter(name, tmp_path):
    shutil.copy(NOTEBOOKS / name, tmp_path / name)  # executed outputs land beside the copy
    # the kernel a reader installs for this environment (`python -m ipykernel install`), here
    # into a temporary prefix: a python3 kernel found elsewhere may be another interpreter
    kernels = tmp_path / "kernels"
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(kernels),
                    "--name", "deepfm-gluon-test"], check=True, capture_output=True)
    env = dict(os.environ, DEEPFM_NOTEBOOK_EPOCHS="2", DEEPFM_GLUON_DATA=str(tmp_path / "data"),
               JUPYTER_PATH=str(kernels / "share" / "jupyter"))
    proc = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           "--ExecutePreprocessor.kernel_name=deepfm-gluon-test",
                           "--ExecutePreprocessor.timeout=600",
                           "--output", "executed.ipynb", str(tmp_path / name)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = json.loads((tmp_path / "executed.ipynb").read_text())
    outputs = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                      for o in c.get("outputs", []))
    assert "epochs: 2" in outputs and "Traceback" not in outputs
