"""deepfm-gluon: the d2l.ai chapter "Deep Factorization Machines" (and the FM
chapter it builds on) as a package: faithful models, correct training.

``from deepfm_gluon import DeepFM, FM, CTRDataset`` works as always; the
names load on first use, so that importing the package (as the command line
does) does not import MXNet.
"""
from .version import __version__

__all__ = ["CTRDataset", "DeepFM", "FM", "__version__"]


def __getattr__(name):
    # imported on first use to keep start-up fast: `deepfm-gluon --help` needs no MXNet
    if name == "CTRDataset":
        from .data.ctr_dataset import CTRDataset
        return CTRDataset
    if name in ("DeepFM", "FM"):
        from . import models
        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
