"""deepfm-gluon: the d2l.ai chapter "Deep Factorization Machines" (and the FM
chapter it builds on) as a package: faithful models, correct training.

``from deepfm_gluon import DeepFM, FM, CTRDataset`` works as always; the
names load on first use, so that importing the package (as the command line
does) does not import MXNet.
"""
from .startup import speed_up_mxnet_import
from .version import __version__

speed_up_mxnet_import()  # start-up: MXNet's unused optional libraries and op-function compiles (startup/)

__all__ = ["CTRDataset", "DeepFM", "FM", "__version__"]


def __getattr__(name):
    """The public classes, imported on first use (`deepfm-gluon --help` needs no MXNet)."""
    if name == "CTRDataset":
        from .data.ctr_dataset import CTRDataset  # on first use, to keep start-up fast
        return CTRDataset
    if name in ("DeepFM", "FM"):
        from . import models  # on first use, to keep start-up fast
        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
