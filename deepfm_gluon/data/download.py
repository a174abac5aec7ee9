"""The book's 'ctr' data set: downloaded, checked and extracted the d2l way,
but safely: nothing partial is left behind when a check fails."""
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile

from ..errors import DeepFMError

# d2l.DATA_HUB['ctr'] in d2l 1.0.3: d2l.DATA_URL + 'ctr.zip' and its sha1.
CTR_URL = "http://d2l-data.s3-accelerate.amazonaws.com/ctr.zip"
CTR_SHA1 = "e18327c48c8e8e5c23da714dd614e390d369843f"
DATA_DIR_ENV = "DEEPFM_GLUON_DATA"
DEFAULT_DATA_DIR = os.path.join("..", "data")  # d2l's default folder


def default_data_dir():
    """Where data sets live: $DEEPFM_GLUON_DATA, else d2l's '../data'."""
    return os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR


def sha1_of(path, chunk=1 << 20):
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


class DownloadUnavailable(DeepFMError):
    """The server did not answer (offline, DNS, refused): nothing was checked,
    so a caller may fall back to other data, unlike a failed sha1 check."""


def _fetch(url, dest):
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError) as err:
        raise DownloadUnavailable(f"could not download {url}: {err}") from None


def download_ctr(data_dir=None, url=CTR_URL, sha1=CTR_SHA1):
    """Return the folder holding the book's ``train.csv`` and ``test.csv``.

    Like ``d2l.download_extract('ctr')``: a cached zip with the right sha1 is
    reused; otherwise it is downloaded, checked and extracted. Unlike d2l, a
    sha1 mismatch or a broken zip is an error and leaves no file behind.
    """
    data_dir = data_dir or default_data_dir()
    os.makedirs(data_dir, exist_ok=True)
    zip_path = os.path.join(data_dir, "ctr.zip")
    target = os.path.join(data_dir, "ctr")
    if os.path.exists(os.path.join(target, "train.csv")) and os.path.exists(zip_path) \
            and sha1_of(zip_path) == sha1:
        return target
    if not (os.path.exists(zip_path) and sha1_of(zip_path) == sha1):
        fd, tmp_zip = tempfile.mkstemp(prefix=".ctr-", suffix=".zip", dir=data_dir)
        os.close(fd)
        try:
            _fetch(url, tmp_zip)
            got = sha1_of(tmp_zip)
            if got != sha1:
                raise DeepFMError(f"{url}: sha1 {got} does not match the expected {sha1}; "
                                  "the download is corrupt or not the book's file")
            os.replace(tmp_zip, zip_path)
        finally:
            if os.path.exists(tmp_zip):
                os.remove(tmp_zip)
    _extract(zip_path, data_dir, target)
    return target


def _extract(zip_path, data_dir, target):
    tmp_dir = tempfile.mkdtemp(prefix=".ctr-", dir=data_dir)
    try:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                bad = archive.testzip()
                if bad is not None:
                    raise DeepFMError(f"{zip_path}: member {bad} is corrupt")
                archive.extractall(tmp_dir)
        except (zipfile.BadZipFile, EOFError) as err:
            raise DeepFMError(f"{zip_path}: not a complete zip file ({err})") from None
        inner = os.path.join(tmp_dir, "ctr")
        source = inner if os.path.isdir(inner) else tmp_dir
        if not os.path.exists(os.path.join(source, "train.csv")):
            raise DeepFMError(f"{zip_path}: has no ctr/train.csv")
        if os.path.exists(target):
            shutil.rmtree(target)
        os.replace(source, target)
    except DeepFMError:
        if os.path.exists(zip_path):
            os.remove(zip_path)
        raise
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
