"""What ``import mxnet`` loads that the package never uses (start-up).

MXNet 1.9.1's ``mxnet/model.py`` (the legacy ``FeedForward`` API) runs
``from sklearn.base import BaseEstimator`` at import, to make FeedForward a
scikit-learn estimator where scikit-learn is installed (the test extra
installs it). That import loads scikit-learn, SciPy's stats and pandas: about
a third of ``import mxnet``'s time (docs/benchmarks.md, "Book-size step,
round four"). ``skip_sklearn_in_mxnet_model`` makes that one import fail as it
does where scikit-learn is absent (MXNet then uses ``object``, as it does
there): only for ``mxnet.model``, only while neither is loaded yet, and the
hook removes itself at the first import of scikit-learn, whoever asks.
"""
import sys

_IMPORTER = "mxnet.model"


class _SklearnNotForMxnetModel:
    """A meta-path finder that refuses ``sklearn`` to ``mxnet.model`` alone, once."""

    def find_spec(self, name, path=None, target=None):
        if name != "sklearn":
            return None
        _remove(self)
        if _importer_name() == _IMPORTER:
            raise ModuleNotFoundError("scikit-learn is not loaded for mxnet.model's FeedForward "
                                      "(deepfm_gluon.startup)", name=name)
        return None


def _importer_name():
    """The module whose code runs the import being resolved (past importlib's frames)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("importlib"):
        frame = frame.f_back
    return frame.f_globals.get("__name__") if frame is not None else None


def _remove(finder):
    try:
        sys.meta_path.remove(finder)
    except ValueError:
        pass


def import_mxnet_as_is():
    """Remove the hook: MXNet imports as it would without this package (the
    bench's book pipeline is timed as its users run it)."""
    for finder in [f for f in sys.meta_path if isinstance(f, _SklearnNotForMxnetModel)]:
        _remove(finder)


def skip_sklearn_in_mxnet_model():
    """Install the hook unless MXNet or scikit-learn is loaded already (then it could not matter)."""
    if "mxnet" in sys.modules or "sklearn" in sys.modules:
        return
    if not any(isinstance(f, _SklearnNotForMxnetModel) for f in sys.meta_path):
        sys.meta_path.insert(0, _SklearnNotForMxnetModel())
