"""errors.format_problem: the one format/version check the model directory and
the encoder JSON share, so both refuse foreign and newer files alike."""
import os
import stat

import pytest

from deepfm_gluon.data.encoders import EncoderFormatError, encoder_from_dict
from deepfm_gluon.errors import format_problem
from deepfm_gluon.version import __version__


def test_a_matching_document_has_no_problem():
    assert format_problem({"format": "f", "format_version": 1, "x": 2}, "f", 1, "thing", f"deepfm-gluon {__version__}") is None


@pytest.mark.parametrize("doc, message", [
    ([], "not a thing (format None)"),
    ({"format": "other", "format_version": 1}, "not a thing (format 'other')"),
    ({"format": "f"}, f"format version None; this deepfm-gluon {__version__} reads version 1"),
    ({"format": "f", "format_version": 2}, f"format version 2; this deepfm-gluon {__version__} reads version 1"),
])
def test_each_problem_in_one_sentence(doc, message):
    assert format_problem(doc, "f", 1, "thing", f"deepfm-gluon {__version__}") == message


def test_the_encoder_reader_uses_it():
    with pytest.raises(EncoderFormatError) as err:
        encoder_from_dict({"format": "deepfm-gluon-encoder", "format_version": 9, "kind": "vocabulary"})
    assert str(err.value) == format_problem({"format": "deepfm-gluon-encoder", "format_version": 9},
                                            "deepfm-gluon-encoder", 1, "deepfm-gluon encoder", f"deepfm-gluon {__version__}",
                                            "encoder format version")


def test_an_atomic_write_never_replaces_a_device_fifo_or_folder(tmp_path):
    """os.replace over a device such as /dev/null makes it a regular file (as root): refused first."""
    import errno
    from deepfm_gluon.atomic import atomic_write_text
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    for target in (fifo, folder):  # the machine's /dev/null is not touched by a test
        with pytest.raises(OSError) as err:
            atomic_write_text(str(target), "x")
        assert err.value.errno == errno.EINVAL
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["fifo", "folder"]
