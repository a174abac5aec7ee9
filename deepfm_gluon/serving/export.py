"""`export`: a model dir -> ONNX or MXNet's format, with the encoder JSON beside it.

    --format onnx  --out m.onnx  ->  m.onnx, m.encoder.json
    --format mxnet --out m       ->  m-symbol.json, m-0000.params, m.encoder.json
                                     (+ m.calibration.json for a calibrated model: the
                                     symbol outputs the uncalibrated probability)
An existing directory as --out gets model.onnx / model-* inside it.
"""
import os

from ..version import __version__
from ..atomic import atomic_write, atomic_write_json
from ..errors import DeepFMError
from ..training.calibration import CALIBRATION, load_calibration
from .encoder_json import export_encoder, model_encoder
from .export_mxnet import export_mxnet, mxnet_export_paths
from .export_onnx import net_to_onnx
from .model_dir import load_model_dir
from .public_meta import data_kind

FORMATS = ("onnx", "mxnet")


def export_paths(fmt, out):
    """(model path or prefix, encoder JSON path) for ``--out``."""
    if os.path.isdir(out) or out.endswith(os.sep):
        out = os.path.join(out, "model.onnx" if fmt == "onnx" else "model")
    if fmt == "onnx":
        stem = out[:-len(".onnx")] if out.endswith(".onnx") else out
        return stem + ".onnx", stem + ".encoder.json"
    return out, out + ".encoder.json"


def export_files(fmt, out):
    """Every file ``export_model_dir(..., fmt, out)`` writes, model first, encoder last."""
    model_path, encoder_path = export_paths(fmt, out)
    models = [model_path] if fmt == "onnx" else list(mxnet_export_paths(model_path))
    return models + [encoder_path]


def export_model_dir(model_dir, fmt, out):
    """Export ``model_dir`` (written by ``train``) as ``fmt``; returns the files written."""
    if fmt not in FORMATS:
        raise DeepFMError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    model_encoder(model_dir)  # refuse what cannot be exported before writing anything
    calibrator = load_calibration(model_dir)
    net, meta, _ = load_model_dir(model_dir)
    model_path, encoder_path = export_paths(fmt, out)
    if fmt == "onnx":
        model = net_to_onnx(net, meta["kind"], {
            "kind": meta["kind"], "encoder": os.path.basename(encoder_path),
            "deepfm_gluon_version": __version__, "data": data_kind(meta.get("data")),
            "calibration": calibrator.method if calibrator else "none"}, calibrator,
            where=os.path.join(model_dir, CALIBRATION))
        atomic_write(model_path, lambda tmp: open(tmp, "wb").write(model.SerializeToString()))
        written = [model_path]
    else:
        written = list(export_mxnet(net, model_path))
        if calibrator is not None:  # the symbol outputs the net's probability; the calibration goes beside it
            written.append(model_path + ".calibration.json")
            atomic_write_json(written[-1], calibrator.to_dict())
    export_encoder(model_dir, encoder_path)
    return shareable(written + [encoder_path])


def shareable(paths):
    """Exports are for others to read: the usual umask mode, not mkstemp's 0600."""
    umask = os.umask(0)
    os.umask(umask)
    for path in paths:
        os.chmod(path, 0o666 & ~umask)
    return paths
