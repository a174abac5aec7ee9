"""errors.format_problem: the one format/version check the model directory and
the encoder JSON share, so both refuse foreign and newer files alike."""
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
