"""A trained model on disk: parameters in Gluon's format, everything else as
validated JSON. Nothing here unpickles, so a model dir from elsewhere cannot
run code when loaded."""
import json
import os

import mxnet as mx
from mxnet import npx

from ..version import __version__
from ..atomic import atomic_write, atomic_write_json
from ..errors import ModelDirError
from ..models import MODEL_KINDS

FORMAT = "deepfm-gluon-model"
FORMAT_VERSION = 1
PARAMS, META, MAPPING = "model.params", "meta.json", "mapping.json"


def save_model_dir(out_dir, net, kind, train_set, extra_meta=None):
    """Write params, meta.json (model config, field_dims) and mapping.json."""
    os.makedirs(out_dir, exist_ok=True)
    atomic_write(os.path.join(out_dir, PARAMS), net.save_parameters)
    mapping = {"feat_mapper": {str(k): v for k, v in train_set.feat_mapper.items()},
               "defaults": {str(k): int(v) for k, v in train_set.defaults.items()}}
    atomic_write_json(os.path.join(out_dir, MAPPING), mapping)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
            "kind": kind, "model_config": net.config(), "num_feat": int(train_set.NUM_FEATS),
            **(extra_meta or {})}
    atomic_write_json(os.path.join(out_dir, META), meta)
    return out_dir


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise ModelDirError(f"{path}: missing; is this a deepfm-gluon model directory?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelDirError(f"{path}: not valid JSON ({err})") from None


def read_meta(model_dir):
    """meta.json, checked for format, version and a known model kind."""
    if not os.path.isdir(model_dir):
        raise ModelDirError(f"{model_dir}: not a directory")
    path = os.path.join(model_dir, META)
    meta = _read_json(path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelDirError(f"{path}: not a deepfm-gluon model (format {meta.get('format') if isinstance(meta, dict) else None!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelDirError(f"{path}: format version {meta.get('format_version')!r}; this "
                            f"deepfm-gluon {__version__} reads version {FORMAT_VERSION}")
    if meta.get("kind") not in MODEL_KINDS:
        raise ModelDirError(f"{path}: unknown model kind {meta.get('kind')!r}; "
                            f"expected one of {sorted(MODEL_KINDS)}")
    config = meta.get("model_config")
    if not isinstance(config, dict) or not isinstance(config.get("field_dims"), list):
        raise ModelDirError(f"{path}: model_config lacks field_dims")
    return meta


def read_mapping(model_dir, num_feat):
    path = os.path.join(model_dir, MAPPING)
    data = _read_json(path)
    try:
        feat_mapper = {int(k): dict(v) for k, v in data["feat_mapper"].items()}
        defaults = {int(k): int(v) for k, v in data["defaults"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ModelDirError(f"{path}: malformed feature mapping ({err})") from None
    if sorted(feat_mapper) != list(range(1, num_feat + 1)) or sorted(defaults) != sorted(feat_mapper):
        raise ModelDirError(f"{path}: expected a mapping for fields 1..{num_feat}")
    return feat_mapper, defaults


def load_model_dir(model_dir, expected_kind=None, ctx=None):
    """(net, meta, feat_mapper, defaults) from a directory that train wrote."""
    npx.set_np()  # the blocks and the saved arrays use numpy semantics, as training does
    meta = read_meta(model_dir)
    if expected_kind is not None and meta["kind"] != expected_kind:
        raise ModelDirError(f"{model_dir}: holds a {meta['kind']} model, not {expected_kind}")
    try:
        net = MODEL_KINDS[meta["kind"]](**meta["model_config"])
    except TypeError as err:
        raise ModelDirError(f"{model_dir}/{META}: model_config does not fit {meta['kind']} ({err})") from None
    params = os.path.join(model_dir, PARAMS)
    if not os.path.exists(params):
        raise ModelDirError(f"{params}: missing")
    try:
        net.load_parameters(params, ctx=ctx or mx.cpu())
    except (AssertionError, mx.base.MXNetError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelDirError(f"{params}: does not fit the {meta['kind']} in meta.json ({first[:300]})") from None
    feat_mapper, defaults = read_mapping(model_dir, meta["num_feat"])
    return net, meta, feat_mapper, defaults
