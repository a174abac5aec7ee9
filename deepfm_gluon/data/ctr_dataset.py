"""The book's CTRDataset, encoded once with numpy instead of per sample."""
import numpy as np

from ..errors import DeepFMError
from .fastparse import read_clean_codes
from .reader import SkipReport, read_ctr_columns
from .vocabulary import (apply_field_mapping, apply_mapping_to_codes, build_field_mapping,
                         field_offsets, mapping_from_codes)


class CTRDataset:
    """d2l's ``CTRDataset``: same arguments, attributes and item format.

    ``feat_mapper`` ({field 1..n: {value: index}}), ``defaults`` ({field: index
    of unseen values}), ``field_dims`` and ``offsets`` mean what they mean in
    d2l; pass a training set's ``feat_mapper`` and ``defaults`` to encode a test
    set with the training mapping. Beyond d2l: the whole file is encoded up
    front into ``features`` (n, num_feat) int64, offsets added, and ``labels``
    (n,) float32; malformed lines are counted in ``skip_report`` (or raise with
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
            apply = lambda i: apply_mapping_to_codes(  # noqa: E731
                *columns[i], feat_mapper[i + 1], defaults[i + 1])
        else:  # line by line, every malformed line counted and reported
            labels, values, self.skip_report = read_ctr_columns(data_path, num_feat, strict)
            build = lambda i: build_field_mapping(values[:, i], min_threshold)  # noqa: E731
            apply = lambda i: apply_field_mapping(  # noqa: E731
                values[:, i], feat_mapper[i + 1], defaults[i + 1])
        self.count = len(labels)
        if feat_mapper is None:
            self.feat_mapper, self.defaults, encoded = {}, {}, []
            for i in range(num_feat):
                mapping, column = build(i)
                self.feat_mapper[i + 1], self.defaults[i + 1] = mapping, len(mapping)
                encoded.append(column)
        else:
            self.feat_mapper, self.defaults = feat_mapper, defaults
            encoded = [apply(i) for i in range(num_feat)]
        self.field_dims = np.array([len(self.feat_mapper[i + 1]) + 1 for i in range(num_feat)],
                                   dtype=np.int64)
        self.offsets = field_offsets(self.field_dims)
        self.features = np.stack(encoded, axis=1) + self.offsets
        self.labels = labels

    def __len__(self):
        return self.count

    def __getitem__(self, idx):
        return self.features[idx], self.labels[idx:idx + 1]
