"""`from deepfm_gluon import d2l`: d2l's names, signatures and printed output,
against d2l 1.0.3's own mxnet module (the oracle), on a CPU and offline."""
import contextlib
import dataclasses
import hashlib
import io
import json
import os
import re

import mxnet as mx
import numpy as onp
import pytest
from mxnet import gluon, init

from d2l import mxnet as book
from deepfm_gluon import d2l
from deepfm_gluon.data.synthetic import SyntheticSpec, book_stand_in_spec
from deepfm_gluon.errors import DeepFMError
from deepfm_gluon.reference.book import BookFM
from tests.data.test_download import make_zip, server  # noqa: F401 (server is a fixture)


def test_d2l_own_objects_are_reexported_as_they_are():
    for name in ("accuracy", "evaluate_accuracy_gpus", "train_batch_ch13", "split_batch", "Accumulator",
                 "Timer", "get_dataloader_workers", "DATA_HUB", "try_gpu"):
        assert getattr(d2l, name) is getattr(book, name), name


@pytest.mark.skipif(mx.context.num_gpus() > 0, reason="checks the CPU fallback; this machine has a GPU")
def test_try_all_gpus_is_the_cpu_without_a_gpu():
    assert book.try_all_gpus() == []  # what d2l returns, and train_ch13 then fails on
    assert d2l.try_all_gpus() == [mx.cpu()]


def test_ctr_dataset_encodes_like_d2ls(small_data_dir):
    path = os.path.join(small_data_dir, "test.csv")
    ours, theirs = d2l.CTRDataset(path), book.CTRDataset(path)
    assert len(ours) == len(theirs)
    assert list(ours.field_dims) == [int(v) for v in theirs.field_dims.asnumpy()]
    assert {i: set(m) for i, m in ours.feat_mapper.items()} == {i: set(m) for i, m in theirs.feat_mapper.items()}
    x, y = ours[0]
    assert x.shape == (34,) and y.shape == (1,) and float(y[0]) == float(theirs[0][1][0])


def test_bad_input_gets_d2ls_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError):
        book.CTRDataset(str(tmp_path / "missing.csv"))
    with pytest.raises(FileNotFoundError):
        d2l.CTRDataset(str(tmp_path / "missing.csv"))
    with pytest.raises(KeyError, match="no-such-set"):
        d2l.download_extract("no-such-set")


def offline_hub(monkeypatch, tmp_path, url="http://127.0.0.1:9/ctr.zip", sha1=d2l.DATA_HUB["ctr"][1]):
    """d2l's DATA_HUB['ctr'] pointed at ``url``; data cached under tmp_path/data."""
    monkeypatch.setitem(d2l.DATA_HUB, "ctr", (url, sha1))
    monkeypatch.setenv("DEEPFM_GLUON_DATA", str(tmp_path / "data"))


def test_offline_download_extract_writes_the_stand_in_and_says_it_is_not_the_books(monkeypatch, tmp_path):
    offline_hub(monkeypatch, tmp_path)  # port 9 (discard): refused at once
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        folder = d2l.download_extract("ctr")
    assert out.getvalue().count("\n") == 1 and "NOT the book's data" in out.getvalue()
    assert folder != os.path.join(str(tmp_path / "data"), "ctr")  # never where the book's data goes
    with open(os.path.join(folder, "train.csv")) as f:
        assert len(f.readline().rstrip("\n").split("\t")) == 35  # the book's layout: label + 34 fields
    assert os.path.exists(os.path.join(folder, "test.csv"))
    with open(os.path.join(folder, "spec.json")) as f:  # the book's stand-in: its click rate, not the default's
        assert json.load(f) == dataclasses.asdict(book_stand_in_spec()) != dataclasses.asdict(SyntheticSpec())


def test_download_extract_fetches_and_checks_the_books_zip(server, monkeypatch, tmp_path):  # noqa: F811
    base, root = server
    good = hashlib.sha1((root / "ctr.zip").read_bytes()).hexdigest()
    offline_hub(monkeypatch, tmp_path, url=base + "/ctr.zip", sha1=good)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        folder = d2l.download_extract("ctr")
    assert folder == os.path.join(str(tmp_path / "data"), "ctr") and out.getvalue() == ""
    assert os.path.exists(os.path.join(folder, "train.csv"))


def test_a_wrong_sha1_is_an_error_not_the_stand_in(server, monkeypatch, tmp_path):  # noqa: F811
    base, _ = server
    offline_hub(monkeypatch, tmp_path, url=base + "/ctr.zip", sha1="0" * 40)
    with pytest.raises(DeepFMError, match="sha1"):
        d2l.download_extract("ctr")


def train_with(train_ch13, small_data_dir):
    """The chapter's training cell (FM, small) with one train_ch13; (stdout, net)."""
    train = d2l.CTRDataset(os.path.join(small_data_dir, "train.csv"))
    test = d2l.CTRDataset(os.path.join(small_data_dir, "test.csv"), feat_mapper=train.feat_mapper,
                          defaults=train.defaults)
    mx.random.seed(0)
    devices = [mx.cpu()]
    net = BookFM(train.field_dims, 4)
    net.initialize(init.Xavier(), ctx=devices)
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.02})
    loaders = [gluon.data.DataLoader(data, batch_size=512, shuffle=False, last_batch="rollover")
               for data in (train, test)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        train_ch13(net, *loaders, gluon.loss.SigmoidBinaryCrossEntropyLoss(), trainer, 2, devices)
    return out.getvalue(), net


def test_train_ch13_trains_and_prints_as_d2ls(small_data_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    theirs, their_net = train_with(book.train_ch13, small_data_dir)
    ours, our_net = train_with(d2l.train_ch13, small_data_dir)
    lines = ours.splitlines()
    assert lines[0] == re.search(r"loss [^\n]*", theirs).group(0)  # d2l's Animator prints around it
    assert lines[1].endswith(" examples/sec on [cpu(0)]") and float(lines[1].split()[0]) > 0
    assert lines[2] == "curves: train_ch13.png" and len(lines) == 3
    assert (tmp_path / "train_ch13.png").read_bytes().startswith(b"\x89PNG")
    for (name, mine), (_, ref) in zip(our_net.collect_params().items(), their_net.collect_params().items()):
        onp.testing.assert_allclose(mine.data().asnumpy(), ref.data().asnumpy(), rtol=1e-5, atol=1e-6)
