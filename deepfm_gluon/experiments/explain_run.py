"""`deepfm-gluon explain` and every run's report.html: which data, which
model, where the files go.

A model directory's explain needs labelled data encoded by the model's own
encoder. Without ``--data`` it reloads what the run trained on (meta.json's
``data``, and its validation cut ``validation_cut``) and checks the
encoding still matches; with ``--data`` it takes a labelled file in the
training format (or a data name such as ``synthetic`` or ``criteo:PATH``).
"""
import os

from ..atomic import atomic_write_json
from ..data.sources import load_split, with_validation
from ..data.sources.registry import resolve
from ..errors import DeepFMError
from ..serving.predictor import Predictor
from .explain import DEFAULT_MAX_ROWS, DEFAULT_REPEATS, explain_arrays
from .html_report import run_page, write_page

EXPLAIN_DIR, EXPLAIN_JSON, REPORT = "explain", "explain.json", "report.html"


def explain_split(net, kind, split, predict, out_dir, fields=None, repeats=DEFAULT_REPEATS, seed=0,
                  max_rows=DEFAULT_MAX_ROWS, title=""):
    """Explain ``net`` on a DataSplit: reliability and interactions on the
    test part, importance on the validation part (the test part, said so,
    when the run had none). Writes explain.json and the PNGs into
    ``out_dir``; returns (result dict, {part: png path})."""
    # start-up: matplotlib loads only when figures are drawn
    from .explain_figures import write_figures

    test = (split.test.features, split.test.labels, f"the test split of {split.name}")
    if split.validation is not None:
        held = (split.validation.features, split.validation.labels,
                f"the validation split of {split.name} ({split.protocol})")
    else:
        held = (*test[:2], f"the test split of {split.name} (the run had no validation split)")
    result = explain_arrays(net, kind, list(split.train.encoder.field_names), test, held, predict, fields,
                            repeats, seed, max_rows)
    os.makedirs(out_dir, exist_ok=True)
    atomic_write_json(os.path.join(out_dir, EXPLAIN_JSON), result)
    return result, write_figures(result, out_dir, title=f"{title}: " if title else "")


def explain_saved(model_dir, split, title=None):
    """Explain the model saved in ``model_dir`` (loaded as evaluate and serve
    load it) on ``split``, the DataSplit it was trained on, into
    MODEL_DIR/explain/; returns (result, {part: png path}, meta)."""
    predictor = Predictor(model_dir)
    kind = predictor.meta["kind"]
    result, figures = explain_split(predictor.net, kind, split, predictor.predict_features,
                                    os.path.join(model_dir, EXPLAIN_DIR), title=title or kind)
    return result, figures, predictor.meta


def report_run(model_dir, split, history, log=print):
    """After `train`: explain the saved model on the run's own split and
    write MODEL_DIR/report.html (``history``: a History)."""
    result, figures, meta = explain_saved(model_dir, split)
    path = write_page(os.path.join(model_dir, REPORT), run_page(model_dir, history.to_dict(), meta, result, figures))
    if log:
        log(f"report: {path}")
    return path


class FileSplit:
    """A labelled file read with the model's encoder, shaped like a DataSplit
    (the file is the test part; no validation part unless one is given)."""

    def __init__(self, predictor, path, validation_path=None):
        self.name, self.protocol = path, f"validation: {validation_path}"
        self.train = self
        self.encoder = predictor.encoder
        self.test = self._read(predictor, path)
        self.validation = self._read(predictor, validation_path) if validation_path else None

    @staticmethod
    def _read(predictor, path):
        if not os.path.isfile(path):
            raise DeepFMError(f"--data {path}: no such file (expected a labelled file in the training format "
                              "or a data name: synthetic, ctr, a folder, criteo:PATH, ...)")
        features, labels, _ = predictor.read(path)
        if labels is None:
            raise DeepFMError(f"{path}: no label column; explain needs labelled lines (label then the fields)")
        return _Part(features, labels)


class _Part:
    def __init__(self, features, labels):
        self.features, self.labels = features, labels


def split_for_model(predictor, model_dir, data=None, validation=None, data_dir=None):
    """The labelled data explain uses for a model directory (see module doc)."""
    meta = predictor.meta
    if data is not None and (os.path.isfile(data) or not _is_data_name(data)):
        if predictor.table is not None:
            raise DeepFMError(f"--data {data}: a model of a table source is explained on the data it names: "
                              f"pass --data SOURCE:PATH (e.g. criteo:PATH, the file it was trained on)")
        return FileSplit(predictor, data, validation)
    name = data or meta.get("data")
    if not name:
        raise DeepFMError(f"{model_dir}/meta.json names no training data; pass --data FILE "
                          "(a labelled file in the training format)")
    try:
        split = load_split(name, data_dir=data_dir)
    except (DeepFMError, OSError) as err:
        raise DeepFMError(f"{model_dir}: explain needs labelled data; the run's --data {name} cannot be read "
                          f"here ({err}); pass --data FILE (a labelled file in the training format) "
                          "or --data-dir") from None
    if split.train.encoder != predictor.encoder:
        raise DeepFMError(f"{model_dir}: --data {name} no longer encodes as the model's encoder.json; "
                          "pass --data FILE (a labelled file in the training format)")
    cut = meta.get("validation_cut") if data is None or data == meta.get("data") else None
    if cut:
        split = with_validation(split, cut["share"], cut["mode"], cut["seed"])
    return split


def _is_data_name(value):
    """A --data value the source registry resolves (synthetic, ctr, a folder, criteo:PATH, ...)."""
    try:
        resolve(value)
    except DeepFMError:
        return False
    return True


def explain_model_dir(model_dir, data=None, validation=None, out_dir=None, data_dir=None, fields=None,
                      repeats=DEFAULT_REPEATS, seed=0, max_rows=DEFAULT_MAX_ROWS):
    """`deepfm-gluon explain`: explain.json and the PNGs in ``out_dir``
    (default MODEL_DIR/explain); returns (result, {part: png path})."""
    predictor = Predictor(model_dir)
    split = split_for_model(predictor, model_dir, data, validation, data_dir)
    return explain_split(predictor.net, predictor.meta["kind"], split, predictor.predict_features,
                         out_dir or os.path.join(model_dir, EXPLAIN_DIR), fields, repeats, seed, max_rows,
                         title=predictor.meta["kind"])
