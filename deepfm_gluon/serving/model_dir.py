"""A trained model on disk: parameters in Gluon's format, everything else as
validated JSON. Nothing here unpickles, so a model dir from elsewhere cannot
run code when loaded.

Files: ``model.params``; ``meta.json`` (format, model kind and config,
``num_feat``, training details); ``encoder.json`` (the training encoder,
data/encoders.py, docs/encoder.md); for a vocabulary encoder also
``mapping.json`` (d2l's ``feat_mapper``/``defaults``), which directories
written before encoder.json existed hold alone and which is still written
so that older readers keep working.
"""
import json
import os

import mxnet as mx
from mxnet import npx

from ..version import __version__
from ..atomic import atomic_write, atomic_write_json
from ..data.encoders import EncoderFormatError, VocabularyEncoder, encoder_from_dict
from ..errors import ModelDirError, format_problem, useful_line
from ..limits import MAX_FIELDS, MAX_JSON_DEPTH, is_int, json_depth, model_config_problem
from ..gluon_compat import adopt_parameter_data, load_parameters_in_place, save_parameters_without_copies
from ..models.registry import PLUGINS_ENV, get_spec, model_names

FORMAT = "deepfm-gluon-model"
FORMAT_VERSION = 1
PARAMS, META, MAPPING, ENCODER = "model.params", "meta.json", "mapping.json", "encoder.json"


def save_model_dir(out_dir, net, kind, train_set, extra_meta=None):
    """Write model.params, meta.json, encoder.json (and mapping.json for a
    vocabulary) to ``out_dir``. ``train_set``: the ``CTRData`` the net was
    trained on (its ``encoder`` is saved); ``extra_meta``: more meta.json keys."""
    os.makedirs(out_dir, exist_ok=True)
    encoder = train_set.encoder
    # net.save_parameters' file, without a second copy of each table in memory
    atomic_write(os.path.join(out_dir, PARAMS), lambda tmp: save_parameters_without_copies(net, tmp))
    encoder.save(os.path.join(out_dir, ENCODER))
    if isinstance(encoder, VocabularyEncoder):
        mapping = {"feat_mapper": {str(f + 1): v for f, v in enumerate(encoder.vocabularies)},
                   "defaults": {str(f + 1): d for f, d in enumerate(encoder.defaults)}}
        atomic_write_json(os.path.join(out_dir, MAPPING), mapping)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
            "kind": kind, "model_module": get_spec(kind).module, "model_config": net.config(),
            "num_feat": encoder.num_fields,
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
    except RecursionError:
        raise ModelDirError(f"{path}: JSON nested too deep (at most {MAX_JSON_DEPTH} levels)") from None


def read_meta(model_dir):
    """meta.json, checked for format, version and a known model kind."""
    if not os.path.isdir(model_dir):
        raise ModelDirError(f"{model_dir}: not a directory")
    path = os.path.join(model_dir, META)
    meta = _read_json(path)
    problem = format_problem(meta, FORMAT, FORMAT_VERSION, "deepfm-gluon model", f"deepfm-gluon {__version__}")
    if problem:
        raise ModelDirError(f"{path}: {problem}")
    kind = meta.get("kind")
    if kind not in model_names():
        module = meta.get("model_module")
        plug_in = (f"; it was trained with the plug-in module {module!r}: register it with "
                   f"${PLUGINS_ENV}={module}" if isinstance(module, str) and module else "")
        raise ModelDirError(f"{path}: unknown model kind {kind!r}; known models: "
                            f"{', '.join(model_names())}{plug_in}")
    config = meta.get("model_config")
    if not isinstance(config, dict) or not isinstance(config.get("field_dims"), list):
        raise ModelDirError(f"{path}: model_config lacks field_dims")
    check_meta_sizes(path, meta)
    return meta


def check_meta_sizes(path, meta):
    """Types, ranges, sizes and nesting of meta.json, before any array is made."""
    if json_depth(meta) > MAX_JSON_DEPTH:
        raise ModelDirError(f"{path}: JSON nested too deep (at most {MAX_JSON_DEPTH} levels)")
    num_feat = meta.get("num_feat")
    if not is_int(num_feat) or not 1 <= num_feat <= MAX_FIELDS:
        raise ModelDirError(f"{path}: num_feat: expected an integer 1..{MAX_FIELDS}, got {num_feat!r}")
    config = meta["model_config"]
    problem = model_config_problem(config, num_feat) or get_spec(meta["kind"]).config_problem(
        {k: v for k, v in config.items() if k != "field_dims"})
    if problem:
        raise ModelDirError(f"{path}: model_config {problem}")


def check_vocabularies(path, encoder):
    """Every local index of a mapping.json vocabulary inside its own field's
    block (0..size-1) and every default in 0..size: an index elsewhere would
    silently read another field's rows."""
    for f, (vocab, default) in enumerate(zip(encoder.vocabularies, encoder.defaults)):
        if not all(is_int(v) and 0 <= v < len(vocab) for v in vocab.values()):
            raise ModelDirError(f"{path}: field {f + 1}: indices must be 0..{len(vocab) - 1}")
        if not is_int(default) or not 0 <= default <= len(vocab):
            raise ModelDirError(f"{path}: field {f + 1}: default {default!r} outside 0..{len(vocab)}")


def read_encoder(model_dir, num_feat):
    """The training encoder: encoder.json, or for a directory written before
    it existed, a ``VocabularyEncoder`` from mapping.json."""
    path = os.path.join(model_dir, ENCODER)
    if os.path.exists(path):
        try:
            encoder = encoder_from_dict(_read_json(path))
        except EncoderFormatError as err:
            raise ModelDirError(f"{path}: {err}") from None
    else:
        path = os.path.join(model_dir, MAPPING)
        data = _read_json(path)
        try:
            feat_mapper = {int(k): dict(v) for k, v in data["feat_mapper"].items()}
            defaults = {int(k): int(v) for k, v in data["defaults"].items()}
            encoder = VocabularyEncoder.from_feat_mapper(feat_mapper, defaults)
        except (KeyError, TypeError, ValueError, AttributeError, EncoderFormatError) as err:
            raise ModelDirError(f"{path}: malformed feature mapping ({err})") from None
        check_vocabularies(path, encoder)
    if encoder.num_fields != num_feat:
        raise ModelDirError(f"{path}: expected an encoder for {num_feat} fields, "
                            f"found {encoder.num_fields}")
    return encoder


def load_for_scoring(net, params, ctx):
    """Fill ``net`` (its shapes known) from the .params file on ``ctx``,
    holding the weights once: every array is allocated empty and read into a
    slice at a time, and none gets a gradient buffer (scoring needs none).
    Gluon's ``load_parameters`` holds the file, an initialized copy and a
    gradient of each: three times a 3 GB table."""
    for param in net.collect_params().values():
        param.grad_req = "null"
        adopt_parameter_data(param, mx.np.empty(param.shape, dtype=param.dtype, ctx=ctx))
    load_parameters_in_place(net, params)


def load_model_dir(model_dir, expected_kind=None, ctx=None):
    """(net, meta, encoder) from a directory that train wrote; ``encoder``
    turns raw values into the net's int32 (n, num_feat) inputs."""
    npx.set_np()  # the blocks and the saved arrays use numpy semantics, as training does
    meta = read_meta(model_dir)
    if expected_kind is not None and meta["kind"] != expected_kind:
        raise ModelDirError(f"{model_dir}: holds a {meta['kind']} model, not {expected_kind}")
    try:
        net = get_spec(meta["kind"]).block(**meta["model_config"])
    except TypeError as err:
        raise ModelDirError(f"{model_dir}/{META}: model_config does not fit {meta['kind']} ({err})") from None
    params = os.path.join(model_dir, PARAMS)
    if not os.path.exists(params):
        raise ModelDirError(f"{params}: missing")
    try:
        load_for_scoring(net, params, ctx or mx.cpu())
    except (AssertionError, mx.base.MXNetError, ValueError, OSError) as err:
        raise ModelDirError(f"{params}: unreadable or does not fit the {meta['kind']} in meta.json "
                            f"({useful_line(err) if str(err).strip() else type(err).__name__})") from None
    encoder = read_encoder(model_dir, meta["num_feat"])
    if list(encoder.field_dims) != list(meta["model_config"]["field_dims"]):
        raise ModelDirError(f"{model_dir}: the encoder's field sizes do not match the model's field_dims")
    return net, meta, encoder
