"""deepfm-gluon: the d2l.ai chapter "Deep Factorization Machines" (and the FM
chapter it builds on) as a package: faithful models, correct training."""
__version__ = "0.1.0"

from .data.ctr_dataset import CTRDataset  # noqa: E402
from .models import FM, DeepFM  # noqa: E402

__all__ = ["CTRDataset", "DeepFM", "FM", "__version__"]
