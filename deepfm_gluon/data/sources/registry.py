"""Data sources by name: every ``SOURCE = SourceSpec(...)`` found in the
modules of this package (one file per source, like models/registry.py).

``resolve("criteo:/data/day_0")`` gives (spec, "/data/day_0"); a bare name
(``synthetic``) gives empty args; an existing directory is the ``folder``
source; anything else is a one-line error listing the known sources.
"""
import os

from ...discovery import declared_specs
from ...errors import DeepFMError
from .spec import SourceSpec

_REGISTRY = {}
_LOADED = False
FOLDER = "folder"


def register(spec):
    """Add ``spec`` (a SourceSpec); a second spec under one name is refused."""
    if not isinstance(spec, SourceSpec):
        raise TypeError(f"expected a SourceSpec, got {type(spec).__name__}")
    other = _REGISTRY.get(spec.name)
    if other is not None and other is not spec:
        raise ValueError(f"data source {spec.name!r} is already registered (from {other.module or '?'})")
    _REGISTRY[spec.name] = spec
    return spec


def _load():
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for spec in declared_specs(os.path.dirname(__file__), __package__, "SOURCE", SourceSpec):
        register(spec)


def source_names():
    _load()
    return sorted(_REGISTRY)


def known_sources():
    """One line: every source's usage, for error messages and --help."""
    _load()
    return ", ".join(_REGISTRY[name].usage for name in sorted(_REGISTRY))


def get_source(name):
    """The SourceSpec called ``name``; an unknown name lists the known ones in one line."""
    _load()
    spec = _REGISTRY.get(name)
    if spec is None:
        raise DeepFMError(f"unknown data source {name!r}; known: {known_sources()}")
    return spec


def split_prefix(text):
    """(spec, args) when ``text`` is ``NAME:ARGS`` of a registered source, else None."""
    _load()
    name, sep, args = str(text).partition(":")
    return (_REGISTRY[name], args) if sep and name in _REGISTRY else None


def resolve(text):
    """(SourceSpec, args) of a ``--data`` value (see the module doc)."""
    text = str(text)
    found = split_prefix(text)
    if found:
        return found
    _load()
    if text in _REGISTRY:
        return _REGISTRY[text], ""
    if os.path.isdir(text):
        return _REGISTRY[FOLDER], text
    name = text.partition(":")[0] if ":" in text else text
    raise DeepFMError(f"--data {text}: not a data source or a folder (unknown {name!r}); "
                      f"known: {known_sources()}")


def input_path(text):
    """The file an input argument names: ``criteo:F`` (any source that takes
    a path) is ``F``; anything else is itself."""
    found = split_prefix(text)
    return found[1] if found and found[0].takes_path and found[1] else text
