"""report.html as a reader meets it: one self-contained file (figures as data
URIs, nothing fetched), opened in headless Chromium with the network cut
off; its figures decode to non-empty images, its tables are there, and a
screenshot is not blank."""
import json
import os
import re
import shutil
import subprocess

import pytest

from deepfm_gluon.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Resolve no host name: a page that needed the network would lose its figures.
OFFLINE = ["--headless", "--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--virtual-time-budget=10000"]
PROBE = """<script>
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify({
    images: images.length,
    decoded: images.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0).length,
    tables: document.querySelectorAll('table').length,
    cells: document.querySelectorAll('td').length});
  document.body.appendChild(pre);
});
</script>"""


@pytest.fixture(scope="module")
def run_dir(small_data_dir, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("report") / "deepfm")
    assert main(["train", "--model", "deepfm", "--data", small_data_dir, "--epochs", "2", "--early-stop", "1",
                 "--out", out]) == 0
    return out


def test_report_is_self_contained(run_dir):
    text = open(os.path.join(run_dir, "report.html")).read()
    sources = re.findall(r'src="([^"]*)"', text)
    assert len(sources) == 4  # curves, reliability, importance, interactions
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(href|src)="(https?:)?//', text) and "<script" not in text
    for label in ("NE", "ECE", "calibration"):
        assert f"<td>{label}</td>" in text


def chromium(*args, timeout=120):
    proc = subprocess.run([CHROMIUM, *OFFLINE, *args], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian: apt-get install chromium; "
                                              ".ci/run installs it where apt works)")
def test_report_renders_in_headless_chromium(run_dir, tmp_path):
    probed = tmp_path / "probed.html"
    text = open(os.path.join(run_dir, "report.html")).read()
    probed.write_text(text.replace("</body>", PROBE + "</body>"))
    dom = chromium("--dump-dom", probed.as_uri())
    found = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom).group(1).replace("&quot;", '"'))
    assert found["images"] == 4 and found["decoded"] == 4, found
    assert found["tables"] >= 2 and found["cells"] > 20, found

    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,2400", (tmp_path / "probed.html").as_uri())
    from matplotlib.image import imread  # the PNG reader the package already depends on
    pixels = imread(str(shot))[..., :3]
    drawn = (pixels < 0.9).any(axis=-1).mean()  # share of pixels that are not (near) white
    assert pixels.shape[:2] == (2400, 1200) and drawn > 0.05, drawn
