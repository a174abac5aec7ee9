"""What ``import mxnet`` loads that the package never uses (start-up).

MXNet 1.9.1 imports, at ``import mxnet``, optional libraries for features
this package never calls, each inside ``try: ... except ImportError``:

- ``mxnet/model.py`` (the legacy ``FeedForward``): ``sklearn.base``, to make
  FeedForward a scikit-learn estimator (with SciPy's stats and pandas);
- ``mxnet/contrib/quantization.py`` (entropy calibration) and
  ``mxnet/test_utils.py`` (its statistical checks): ``scipy.stats``;
- ``mxnet/onnx`` (MXNet's own ONNX exporter, which has no numpy-mode
  converters; the package writes ONNX itself): ``onnx``.

and ``mxnet/numpy_dispatch_protocol.py`` and ``mxnet/numpy_op_fallback.py``
import ``distutils.version`` for a version comparison, which setuptools'
``distutils`` shim serves by importing setuptools and pkg_resources; the
standard library's own ``distutils`` (Python 3.11) has the same classes.

Together about 0.9 s of a 3 s ``import mxnet`` where the test extra installed
them (docs/benchmarks.md, "Book-size step, round four").
``skip_optional_imports_of_mxnet`` makes exactly those imports fail as they
do where the library is absent (MXNet then takes its own fallback), only for
those MXNet modules, and gives MXNet the standard library's ``distutils``
(STDLIB_FOR_MXNET). A rule goes at the first import of its library by
anyone else, which then imports as usual; ``import_mxnet_without_skipping``
removes all.
"""
import importlib.machinery
import os
import sys

from .meta_path import remove_finder, remove_finders_of

# library -> the MXNet modules (name prefixes) whose optional import of it is skipped
OPTIONAL_IMPORTS = {
    "sklearn": ("mxnet.model",),
    "scipy.stats": ("mxnet.contrib.quantization", "mxnet.test_utils"),
    "onnx": ("mxnet.onnx.", "mxnet.contrib.onnx."),
}
# library -> the MXNet modules that get the standard library's own package
STDLIB_FOR_MXNET = {"distutils": ("mxnet.",)}


class _OptionalImportsNotForMxnet:
    """A meta-path finder that refuses each library of ``rules`` to the MXNet
    modules named for it (or, for STDLIB_FOR_MXNET, finds it in the standard
    library); another importer of a library ends its rule."""

    def __init__(self, rules):
        self.rules = dict(rules)

    def find_spec(self, name, path=None, target=None):
        importers = self.rules.get(name)
        if importers is None:
            return None
        if (_importer_name(name.split(".")[0]) or "").startswith(importers):
            if name in STDLIB_FOR_MXNET:
                return importlib.machinery.PathFinder.find_spec(name, [os.path.dirname(os.__file__)])
            raise ModuleNotFoundError(f"{name} is not loaded for MXNet's optional use "
                                      "(deepfm_gluon.startup.optional_imports)", name=name)
        del self.rules[name]  # someone else wants it: from now on it imports as usual
        if not self.rules:
            remove_finder(self)
        return None


def _importer_name(package):
    """The module whose code runs the import being resolved: past importlib's
    frames and ``package``'s own (SciPy resolves ``from scipy import stats``
    in its module ``__getattr__``)."""
    def inside(frame):
        name = frame.f_globals.get("__name__", "")
        return name.startswith("importlib") or name == package or name.startswith(package + ".")
    frame = sys._getframe(2)
    while frame is not None and inside(frame):
        frame = frame.f_back
    return frame.f_globals.get("__name__") if frame is not None else None


def import_mxnet_without_skipping():
    """Remove the hook: MXNet loads its optional libraries as it would
    without this package."""
    remove_finders_of(_OptionalImportsNotForMxnet)


def skip_optional_imports_of_mxnet():
    """Install the hook unless MXNet is loaded already (then it could not
    matter); a library already loaded keeps no rule."""
    if "mxnet" in sys.modules or any(isinstance(f, _OptionalImportsNotForMxnet) for f in sys.meta_path):
        return
    rules = {name: importers for name, importers in {**OPTIONAL_IMPORTS, **STDLIB_FOR_MXNET}.items()
             if name not in sys.modules}
    if rules:
        sys.meta_path.insert(0, _OptionalImportsNotForMxnet(rules))
