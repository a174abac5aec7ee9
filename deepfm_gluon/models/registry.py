"""Models by name: every ``MODEL = ModelSpec(...)`` found in the model modules.

Built-in models are the modules of this package that define ``MODEL``; a
plug-in is any importable module named in ``$DEEPFM_GLUON_MODELS``
(comma-separated) that does, or a spec passed to ``register``. A model
directory never makes the package import a module by itself: a saved
plug-in model loads only where its module is registered again.
"""
import importlib
import os

from ..errors import DeepFMError
from ..discovery import declared_specs, module_spec
from .spec import ModelSpec

PLUGINS_ENV = "DEEPFM_GLUON_MODELS"
_REGISTRY = {}
_LOADED = False


class UnknownModel(DeepFMError, ValueError):
    """A model name that no registered spec has (a user error: one line, exit 1)."""


def register(spec):
    """Add ``spec`` (a ModelSpec); a second spec under one name is refused."""
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"expected a ModelSpec, got {type(spec).__name__}")
    other = _REGISTRY.get(spec.name)
    if other is not None and other is not spec and other.block is not spec.block:
        raise ValueError(f"model {spec.name!r} is already registered (from {other.module or '?'})")
    _REGISTRY[spec.name] = spec
    return spec


def _register_module(module):
    spec = module_spec(module, "MODEL", ModelSpec)
    if spec is not None:
        register(spec)


def _load():
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for spec in declared_specs(os.path.dirname(__file__), __package__, "MODEL", ModelSpec):
        register(spec)
    for name in filter(None, (part.strip() for part in os.environ.get(PLUGINS_ENV, "").split(","))):
        try:
            module = importlib.import_module(name)
        except ImportError as err:
            raise UnknownModel(f"${PLUGINS_ENV}: cannot import {name!r} ({err})") from None
        _register_module(module)


def model_names():
    """Every registered model name, sorted."""
    _load()
    return sorted(_REGISTRY)


def get_spec(name):
    """The ModelSpec called ``name``; an unknown name lists the known ones in one line."""
    _load()
    spec = _REGISTRY.get(name)
    if spec is None:
        raise UnknownModel(f"unknown model {name!r}; known models: {', '.join(model_names())} "
                           f"(plug-ins: ${PLUGINS_ENV}=module)")
    return spec


def all_specs():
    _load()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def build_model(kind, field_dims, **overrides):
    """Build model ``kind`` with its defaults, updated by ``overrides``."""
    return get_spec(kind).build(field_dims, **overrides)


def book_model_config(kind):
    """The default constructor arguments of ``kind`` (without field_dims):
    for FM and DeepFM, the book's."""
    return get_spec(kind).defaults()
