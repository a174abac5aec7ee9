"""``--data criteo:PATH``: Kaggle's train.txt, Terabyte day_N files or samples
of them (TAB, or comma with a header), in time order (data/criteo/format.py)."""
from ..criteo.format import CRITEO
from .spec import SourceSpec

SOURCE = SourceSpec("criteo", "criteo:PATH", "a Criteo file: label, I1..I13 (log^2 buckets), C1..C26",
                    schema=lambda args, options: CRITEO, takes_path=True, supports_hashing=True,
                    default_preset="bars", time_ordered=True)
