"""Build the chapter notebooks from their text sources: one command.

    python notebooks/build.py                 # deepfm.ipynb and fm.ipynb, executed, with outputs
    python notebooks/build.py deepfm          # one of them
    python notebooks/build.py --quick --out /tmp/nb   # what CI runs: 2 epochs, 1 seed

The sources are the jupytext markdown files notebooks/NAME.md (paired with
NAME.ipynb: edit the .md, or edit the notebook in Jupyter with jupytext
installed and it writes both). This script reads NAME.md, executes every cell
in a fresh kernel of this interpreter with notebooks/ as the working directory,
and writes NAME.ipynb with its outputs. A change to the prose alone needs no
rerun: ``jupytext --update --to ipynb notebooks/NAME.md`` rewrites the
notebook's text and keeps its outputs. ``--quick`` sets DEEPFM_NOTEBOOK_EPOCHS=2,
DEEPFM_NOTEBOOK_SEEDS=1 and DEEPFM_NOTEBOOK_TRIALS=2 (tuning budget) and runs the book's training cell with 2 epochs
instead of its 30 (the one change, made in the executed copy only; the book's
cells at 30 epochs are tests/notebooks/test_book_cells.py's job).
"""
import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAMES = ("fm", "deepfm")
# the book's training cells: `lr, num_epochs, optimizer = 0.01, 30, 'adam'`
BOOK_EPOCHS = re.compile(r"^(lr, num_epochs, optimizer = [0-9.]+, )30(, 'adam')$", re.M)
QUICK_ENV = {"DEEPFM_NOTEBOOK_EPOCHS": "2", "DEEPFM_NOTEBOOK_SEEDS": "1", "DEEPFM_NOTEBOOK_TRIALS": "2"}


def read_source(name):
    """The notebook (nbformat node) of notebooks/NAME.md, without outputs."""
    import jupytext  # start-up: only the build reads the sources
    return jupytext.read(HERE / f"{name}.md")


def shorten_book_epochs(notebook):
    """The executed copy's book training cell with 2 epochs; exactly one per notebook."""
    hits = 0
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source, n = BOOK_EPOCHS.subn(r"\g<1>2\g<2>", cell.source)
            hits += n
    if hits != 1:
        raise SystemExit(f"--quick: expected one book training cell with 30 epochs, found {hits}")
    return notebook


def kernel_for_this_interpreter(folder):
    """A kernelspec 'deepfm-gluon-build' running sys.executable, found through JUPYTER_PATH:
    a 'python3' kernel found elsewhere may be another interpreter."""
    spec = Path(folder) / "kernels" / "deepfm-gluon-build"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (deepfm-gluon)", "language": "python"}))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(folder), os.environ.get("JUPYTER_PATH")]))
    return "deepfm-gluon-build"


def build(name, out_dir, quick, kernel, timeout):
    """Execute notebooks/NAME.md and write OUT_DIR/NAME.ipynb; returns its path."""
    import nbformat  # start-up: only the build executes notebooks
    from nbclient import NotebookClient
    notebook = read_source(name)
    if quick:
        shorten_book_epochs(notebook)
    start = time.perf_counter()
    NotebookClient(notebook, kernel_name=kernel, timeout=timeout,
                   resources={"metadata": {"path": str(HERE)}}).execute()
    notebook.metadata.pop("jupytext", None)  # written back below as a pairing with the .md
    notebook.metadata["jupytext"] = {"formats": "ipynb,md"}
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    path = Path(out_dir) / f"{name}.ipynb"
    nbformat.write(notebook, path)
    print(f"{path}: {len(notebook.cells)} cells executed in {time.perf_counter() - start:.0f} s", flush=True)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"which notebooks, of {', '.join(NAMES)} (default: both)")
    parser.add_argument("--quick", action="store_true", help="2 epochs and 1 seed (what CI runs)")
    parser.add_argument("--out", default=str(HERE), help="where NAME.ipynb is written (default: notebooks/)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds one cell may run")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown notebook {', '.join(unknown)}; expected one of {', '.join(NAMES)}")
    if args.quick:
        os.environ.update(QUICK_ENV)
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as kernels:
        kernel = kernel_for_this_interpreter(kernels)
        for name in args.names or NAMES:
            build(name, args.out, args.quick, kernel, args.timeout)


if __name__ == "__main__":
    main()
