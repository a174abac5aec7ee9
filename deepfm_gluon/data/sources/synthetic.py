"""``--data synthetic``: the offline default, a deterministic book-shaped set
generated once into the data folder (data/synthetic.py)."""
import os

from ..synthetic import SyntheticSpec, generate_synthetic
from .spec import SourceSpec


def synthetic_folder(args, data_dir, options):
    spec = options.synthetic or SyntheticSpec()
    return generate_synthetic(os.path.join(data_dir, spec.key()), spec)


SOURCE = SourceSpec("synthetic", "synthetic", "the offline default: book-shaped synthetic CTR lines",
                    folder=synthetic_folder)
