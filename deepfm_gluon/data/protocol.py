"""What training, evaluation and serving need from a data set: ``CTRData``.

``CTRDataset`` (the book's files) and ``CriteoDataset`` (a Criteo cache)
both implement it; nothing downstream looks at how a set was read.
"""
from typing import Protocol, runtime_checkable

import numpy as np

from .encoders import Encoder
from .reader import SkipReport


@runtime_checkable
class CTRData(Protocol):
    """An encoded CTR data set.

    - ``features``: int32 (n, num_fields) feature indices, field offsets added
      (rows of one shared embedding table of ``field_dims.sum()`` rows);
    - ``labels``: float32 (n,) clicks, 0 or 1;
    - ``field_dims``: int64 (num_fields,) rows per field;
    - ``skip_report``: the malformed lines left out (``SkipReport``);
    - ``encoder``: what turns raw field values into ``features`` (an ``Encoder``);
    - ``len(data)`` is n, and ``data[i]`` is (features[i], labels[i:i + 1]).
    """

    features: np.ndarray
    labels: np.ndarray
    field_dims: np.ndarray
    skip_report: SkipReport
    encoder: Encoder

    def __len__(self) -> int: ...

    def __getitem__(self, idx): ...
