"""The feature encoder as a language-neutral JSON file that travels with an export.

A client in any language turns one row of raw field values into the model's
input with this rule (docs/serving.md, "The encoder file"):

    index[f] = fields[f].offset + fields[f].vocabulary.get(value[f], fields[f].unknown)

``value[f]`` is the raw cell string exactly as in the training file's field f
(no trimming, case-sensitive); ``index`` is int64 (batch, num_fields), what
the ONNX graph and the MXNet export take.

``export_encoder`` is the one place that knows where the encoder comes from
(today: the model dir's mapping.json); everything else reads the JSON.
"""
import json

import numpy as np

from ..atomic import atomic_write_json
from ..errors import DeepFMError, ModelDirError

FORMAT, FORMAT_VERSION = "deepfm-gluon-encoder", 1
RULE = "index[f] = fields[f].offset + fields[f].vocabulary.get(value[f], fields[f].unknown)"


def encoder_spec(model_dir):
    """The encoder JSON (a dict) for a model dir, from its meta.json and mapping.json."""
    # start-up: here, not at the top: model_dir imports MXNet, and FieldEncoder alone must not
    from ..data.vocabulary import field_offsets
    from .model_dir import read_mapping, read_meta

    meta = read_meta(model_dir)
    if str(meta.get("data", "")).startswith("criteo:"):
        raise ModelDirError(f"{model_dir}: trained on Criteo data; its encoder cannot be "
                            "exported yet (only d2l-format models)")
    field_dims = [int(d) for d in meta["model_config"]["field_dims"]]
    feat_mapper, defaults = read_mapping(model_dir, meta["num_feat"])
    fields = [{"name": f"field_{i}", "offset": int(offset), "size": field_dims[i - 1],
               "unknown": int(defaults[i]),
               "vocabulary": {str(v): int(j) for v, j in sorted(feat_mapper[i].items())}}
              for i, offset in zip(range(1, len(field_dims) + 1), field_offsets(field_dims))]
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": "vocabulary",
            "rule": RULE, "input": "int64 (batch, num_fields) feature indices",
            "num_fields": len(fields), "num_inputs": int(sum(field_dims)), "fields": fields}


def export_encoder(model_dir, out_path):
    """Write the model dir's encoder as JSON to ``out_path``; returns the path."""
    return atomic_write_json(out_path, encoder_spec(model_dir))


class FieldEncoder:
    """Raw field values -> feature indices, by the rule above (dict look-ups only,
    so one row costs microseconds; what the HTTP server uses)."""

    def __init__(self, spec):
        try:
            if spec["format"] != FORMAT or spec["format_version"] != FORMAT_VERSION:
                raise ValueError(f"format {spec['format']!r} version {spec['format_version']!r}")
            fields = spec["fields"]
            self.names = [str(f["name"]) for f in fields]
            self.lookups = [({v: int(f["offset"]) + int(j) for v, j in f["vocabulary"].items()},
                             int(f["offset"]) + int(f["unknown"])) for f in fields]
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise DeepFMError(f"not a {FORMAT} v{FORMAT_VERSION} spec ({err})") from None
        self.spec = spec
        self.num_fields = len(self.lookups)

    @classmethod
    def load(cls, path):
        try:
            with open(path) as f:
                return cls(json.load(f))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise DeepFMError(f"{path}: cannot read the encoder ({err})") from None
        except DeepFMError as err:
            raise DeepFMError(f"{path}: {err}") from None

    @classmethod
    def from_model_dir(cls, model_dir):
        return cls(encoder_spec(model_dir))

    def encode_rows(self, rows):
        """rows: n sequences of num_fields str -> int64 (n, num_fields) indices.
        Callers check the row lengths (they know where a row came from)."""
        lookups = self.lookups
        out = [[table.get(value, unknown) for value, (table, unknown) in zip(row, lookups)]
               for row in rows]
        return np.array(out, dtype=np.int64).reshape(len(out), self.num_fields)
