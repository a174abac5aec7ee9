"""The feature encoder that travels with an export, as a language-neutral JSON file.

It is the model directory's own ``encoder.json`` (data/encoders.py; the spec a
client in any language implements is docs/encoder.md): vocabulary or hashing,
with each field's transform, so d2l-format and Criteo models export alike.
For a vocabulary encoder with the ``identity`` transform (the book's data) the
whole rule is::

    offset[f] = sum(len(fields[g].vocabulary) + 1 for g < f)
    index[f]  = offset[f] + fields[f].vocabulary.get(value[f], fields[f].default)

``value[f]`` is the raw cell string exactly as in the training file's field f;
``index`` is int64 (batch, num_fields), what the ONNX graph and the MXNet
export take.
"""
from .model_dir import read_encoder, read_meta


def model_encoder(model_dir):
    """The training encoder of a model directory (VocabularyEncoder or HashingEncoder)."""
    return read_encoder(model_dir, read_meta(model_dir)["num_feat"])


def export_encoder(model_dir, out_path):
    """Write the model dir's encoder as JSON to ``out_path``; returns the path."""
    model_encoder(model_dir).save(out_path)
    return out_path
