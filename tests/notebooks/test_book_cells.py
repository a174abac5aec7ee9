"""The chapters' own code cells run unchanged except their import line.

Every ```{.python .input}``` cell of the DeepFM chapter (../shared/seed/deepfm.md,
as d2l.ai prints it) and of the FM chapter (notebooks/book/fm.md, its code
quoted verbatim) is run in order, in a fresh process, offline, with only
``from d2l import mxnet as d2l`` swapped for ``from deepfm_gluon import d2l``:
the book's 30 epochs, its DataLoader workers, its double sigmoid. The final
training loss printed by ``train_ch13`` must land in the range the book printed
(BOOK_LOSS_RANGE), on the book's data and on the offline stand-in alike (which
announces itself; data/synthetic.py, TARGET_CTR_BOOK).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deepfm_gluon.experiments.book_numbers import BOOK_LOSS_RANGE

REPO = Path(__file__).resolve().parents[2]
# ../shared beside the repository (CI, /work/main); a worktree under /work/wt sits one level deeper
SEED = next((p for p in (REPO.parent / "shared" / "seed", REPO.parents[1] / "shared" / "seed") if p.exists()),
            REPO.parent / "shared" / "seed")
CHAPTERS = {"deepfm": SEED / "deepfm.md", "fm": REPO / "notebooks" / "book" / "fm.md"}
BOOK_IMPORT = "from d2l import mxnet as d2l"
OUR_IMPORT = "from deepfm_gluon import d2l"
CELL = re.compile(r"^```\{\.python \.input[^}]*\}\n(.*?)^```", re.S | re.M)


def book_cells(path):
    """The chapter's code cells, in order, with only the import line swapped."""
    cells = CELL.findall(Path(path).read_text())
    assert sum(BOOK_IMPORT in cell for cell in cells) == 1, f"{path}: expected one `{BOOK_IMPORT}` cell"
    return [cell.replace(BOOK_IMPORT, OUR_IMPORT) for cell in cells]


def test_cells_are_read_as_the_book_writes_them():
    cells = book_cells(CHAPTERS["fm"])
    assert len(cells) == 4 and cells[0].startswith(OUR_IMPORT)
    assert "class FM(nn.Block)" in cells[1] and "d2l.train_ch13(" in cells[3]


@pytest.mark.parametrize("chapter", ["deepfm", "fm"])
def test_the_chapter_runs_and_lands_in_the_books_loss_range(chapter, tmp_path):
    if not CHAPTERS[chapter].exists():
        pytest.skip(f"{CHAPTERS[chapter]} is absent (the chapter's text lives beside the repository)")
    script = tmp_path / f"{chapter}_cells.py"
    script.write_text("\n\n".join(book_cells(CHAPTERS[chapter])))
    env = dict(os.environ, DEEPFM_GLUON_DATA=str(tmp_path / "data"), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    final = re.search(r"^loss (\d\.\d{3}), train acc (\d\.\d{3}), test acc (\d\.\d{3})$", out, re.M)
    assert final, out
    print(f"{chapter}: {final.group(0)}")  # the number docs quote (pytest -rP shows it)
    assert re.search(r"^\d+\.\d examples/sec on \[(cpu|gpu)\(\d\)(, gpu\(\d\))*\]$", out, re.M), out
    assert (tmp_path / "train_ch13.png").read_bytes().startswith(b"\x89PNG")
    lo, hi = BOOK_LOSS_RANGE[chapter]
    if "NOT the book's data" in out:  # offline: the calibrated stand-in, announced once
        assert out.count("NOT the book's data") == 1
    assert lo <= float(final.group(1)) <= hi, out
