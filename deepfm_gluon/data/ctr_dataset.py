"""The book's CTRDataset, encoded once with numpy instead of per sample."""
import numpy as np

from ..errors import DeepFMError
from .encoders import VocabularyEncoder
from .fastparse import read_clean_codes
from .reader import SkipReport, read_ctr_columns
from .vocabulary import build_field_mapping, mapping_from_codes


class CTRDataset:
    """d2l's ``CTRDataset``: same arguments, attributes and item format.

    ``feat_mapper`` ({field 1..n: {value: index}}), ``defaults`` ({field: index
    of unseen values}), ``field_dims`` and ``offsets`` mean what they mean in
    d2l; pass a training set's ``feat_mapper`` and ``defaults`` to encode a test
    set with the training mapping. Beyond d2l (the ``CTRData`` protocol): the
    whole file is encoded up front into ``features`` int32 (n, num_feat),
    offsets added, and ``labels`` float32 (n,); ``encoder`` is the
    ``VocabularyEncoder`` of the mapping (what a model directory saves);
    malformed lines are counted in ``skip_report`` (or raise with
    ``strict=True``) instead of vanishing.
    """

    def __init__(self, data_path, feat_mapper=None, defaults=None, min_threshold=4,
                 num_feat=34, strict=False):
        if (feat_mapper is None) != (defaults is None):
            raise DeepFMError("pass feat_mapper and defaults together (both from the training set)")
        self.NUM_FEATS = num_feat
        self.data_path = str(data_path)
        if feat_mapper is not None and len(feat_mapper) != num_feat:
            raise DeepFMError(f"{data_path}: has {num_feat} fields but the training "
                              f"mapping has {len(feat_mapper)}")
        clean = read_clean_codes(data_path, num_feat)
        if clean is not None:  # fast path: a clean file, coded column by column from bytes
            labels, columns, lines = clean
            self.skip_report = SkipReport(self.data_path, total_lines=lines)
            build = lambda i: mapping_from_codes(*columns[i], min_threshold)  # noqa: E731
            apply = lambda i: self.encoder.encode_factorized(i, *columns[i])  # noqa: E731
        else:  # line by line, every malformed line counted and reported
            labels, values, self.skip_report = read_ctr_columns(data_path, num_feat, strict)
            build = lambda i: build_field_mapping(values[:, i], min_threshold)  # noqa: E731
            apply = lambda i: self.encoder.encode_field(i, values[:, i])  # noqa: E731
        self.count = len(labels)
        if feat_mapper is None:
            self.feat_mapper, self.defaults, encoded = {}, {}, []
            for i in range(num_feat):
                mapping, column = build(i)
                self.feat_mapper[i + 1], self.defaults[i + 1] = mapping, len(mapping)
                encoded.append(column)
            self.encoder = VocabularyEncoder.from_feat_mapper(self.feat_mapper, self.defaults)
        else:
            self.feat_mapper, self.defaults = feat_mapper, defaults
            self.encoder = VocabularyEncoder.from_feat_mapper(feat_mapper, defaults)
            encoded = [apply(i) for i in range(num_feat)]
        self.field_dims = self.encoder.field_dims
        self.offsets = self.encoder.offsets
        self.features = np.empty((self.count, num_feat), dtype=np.int32)
        for i, column in enumerate(encoded):
            self.features[:, i] = column + self.offsets[i]
        self.labels = labels

    def __len__(self):
        return self.count

    def __getitem__(self, idx):
        """(features[idx] int32 (num_feat,), labels[idx:idx + 1] float32 (1,))."""
        return self.features[idx], self.labels[idx:idx + 1]
