"""Start-up: what ``import mxnet`` costs a process that imports this package.

Two hooks, installed by ``import deepfm_gluon`` before MXNet loads:
``optional_imports`` keeps MXNet from loading libraries it imports only for
features the package never calls; ``op_cache`` keeps MXNet's compiled
operator functions between processes. ``import_mxnet_as_is`` removes both
(the bench times the book's pipeline as its users run it).
"""
from .op_cache import cache_mxnet_op_functions, import_mxnet_without_cache
from .optional_imports import import_mxnet_without_skipping, skip_optional_imports_of_mxnet

__all__ = ["import_mxnet_as_is", "speed_up_mxnet_import"]


def speed_up_mxnet_import():
    """Install both hooks (each does nothing if MXNet is loaded already)."""
    skip_optional_imports_of_mxnet()
    cache_mxnet_op_functions()


def import_mxnet_as_is():
    """Remove both hooks: MXNet imports as it would without this package."""
    import_mxnet_without_skipping()
    import_mxnet_without_cache()
