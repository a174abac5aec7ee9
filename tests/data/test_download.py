"""download_ctr for real, against a zip served from 127.0.0.1."""
import functools
import hashlib
import http.server
import io
import os
import threading
import zipfile

import pytest

from deepfm_gluon.data.download import download_ctr
from deepfm_gluon.errors import DeepFMError

TRAIN = "1\t" + "\t".join(["a"] * 34) + "\n"


def make_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ctr/train.csv", TRAIN * 10)
        z.writestr("ctr/test.csv", TRAIN * 3)
    return buf.getvalue()


@pytest.fixture()
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    payload = make_zip()
    (root / "ctr.zip").write_bytes(payload)
    (root / "truncated.zip").write_bytes(payload[: len(payload) // 2])
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def sha1(path):
    return hashlib.sha1(open(path, "rb").read()).hexdigest()


def test_downloads_checks_and_extracts(server, tmp_path):
    base, root = server
    data = tmp_path / "data"
    folder = download_ctr(str(data), url=base + "/ctr.zip", sha1=sha1(root / "ctr.zip"))
    assert folder == os.path.join(str(data), "ctr")
    assert open(os.path.join(folder, "train.csv")).read() == TRAIN * 10
    # cached: a second call does not need the server
    os.remove(root / "ctr.zip")
    assert download_ctr(str(data), url=base + "/ctr.zip", sha1=sha1(data / "ctr.zip")) == folder


def test_sha1_mismatch_is_an_error_and_leaves_nothing(server, tmp_path):
    base, _ = server
    data = tmp_path / "data"
    with pytest.raises(DeepFMError, match="sha1 .* does not match"):
        download_ctr(str(data), url=base + "/ctr.zip", sha1="0" * 40)
    assert os.listdir(data) == []


def test_truncated_zip_is_an_error_and_leaves_nothing(server, tmp_path):
    base, root = server
    data = tmp_path / "data"
    with pytest.raises(DeepFMError, match="not a complete zip"):
        download_ctr(str(data), url=base + "/truncated.zip", sha1=sha1(root / "truncated.zip"))
    assert os.listdir(data) == []


def test_unreachable_url_is_a_clear_error(tmp_path):
    with pytest.raises(DeepFMError, match="could not download"):
        download_ctr(str(tmp_path), url="http://127.0.0.1:9/ctr.zip")
    assert os.listdir(tmp_path) == []
