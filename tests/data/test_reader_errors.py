"""Malformed input is counted and reported, or a clear error naming the file and line."""
import pytest

from deepfm_gluon import CTRDataset
from deepfm_gluon.errors import DataFormatError, DeepFMError
from tests.conftest import write_lines

GOOD = "\t".join(["1"] + [f"a{i}" for i in range(34)])
GOOD0 = "\t".join(["0"] + [f"b{i}" for i in range(34)])


def test_malformed_lines_counted_with_line_numbers(tmp_path):
    lines = [GOOD, "", GOOD0, "\t".join(["2"] + ["x"] * 34), "\t".join(["yes"] + ["x"] * 34),
             "1\tonly\tthree", "\t".join([""] + ["x"] * 34), GOOD]
    ds = CTRDataset(write_lines(tmp_path / "t.csv", lines))
    report = ds.skip_report
    assert len(ds) == 3 and report.skipped == 5 and report.total_lines == 8
    assert [n for n, _ in report.examples] == [2, 4, 5, 6, 7]
    assert "line 2 (blank line)" in report.summary() and "label '2'" in report.summary()


def test_strict_raises_naming_file_and_line(tmp_path):
    path = write_lines(tmp_path / "t.csv", [GOOD, GOOD, "1\tshort"])
    with pytest.raises(DataFormatError, match=r"t\.csv:3: 2 columns \(expected label"):
        CTRDataset(path, strict=True)


def test_crlf_lines_read_like_lf(tmp_path):
    lf = CTRDataset(write_lines(tmp_path / "lf.csv", [GOOD, GOOD0] * 4))
    crlf = CTRDataset(write_lines(tmp_path / "crlf.csv", [GOOD, GOOD0] * 4, newline="\r\n"))
    assert crlf.feat_mapper == lf.feat_mapper and crlf.skip_report.skipped == 0


def test_non_utf8_is_an_error_with_line(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes((GOOD + "\n" + GOOD + "\n").encode() + b"1\t\xff\xfe\n")
    with pytest.raises(DataFormatError, match=r"bin\.csv:3: bytes that are not UTF-8"):
        CTRDataset(str(path))


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    with pytest.raises(DataFormatError, match="empty|no valid line"):
        CTRDataset(str(path))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DeepFMError, match="no such file"):
        CTRDataset(str(tmp_path / "nope.csv"))
    with pytest.raises(DeepFMError, match="is a directory"):
        CTRDataset(str(tmp_path))


def test_header_only_file(tmp_path):
    header = "\t".join(["label"] + [f"C{i}" for i in range(34)])
    with pytest.raises(DataFormatError, match="no valid line"):
        CTRDataset(write_lines(tmp_path / "h.csv", [header]))


def test_train_test_field_count_mismatch(tmp_path):
    train = CTRDataset(write_lines(tmp_path / "train.csv", [GOOD] * 5))
    short = "\t".join(["1"] + ["z"] * 30)
    with pytest.raises(DataFormatError, match="31 columns"):
        CTRDataset(write_lines(tmp_path / "test.csv", [short] * 3),
                   feat_mapper=train.feat_mapper, defaults=train.defaults)
    with pytest.raises(DeepFMError, match="training mapping has 34"):
        CTRDataset(write_lines(tmp_path / "t30.csv", ["\t".join(["1"] + ["z"] * 30)]),
                   feat_mapper=train.feat_mapper, defaults=train.defaults, num_feat=30)
