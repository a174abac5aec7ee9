"""Specs declared by module: how the model and data-source registries find
their entries (``MODEL = ModelSpec(...)``, ``SOURCE = SourceSpec(...)``),
so that a new model or source is one file and nothing else lists it."""
import importlib
import pkgutil


def declared_specs(folder, package, attribute, spec_type):
    """The ``attribute`` of every module in ``package`` (its ``folder``) that
    is a ``spec_type``, in module-name order; each spec's ``module`` is set to
    its module's name where the spec left it empty. Subpackages are skipped."""
    for info in sorted(pkgutil.iter_modules([folder]), key=lambda i: i.name):
        if info.ispkg:
            continue
        spec = module_spec(importlib.import_module(f"{package}.{info.name}"), attribute, spec_type)
        if spec is not None:
            yield spec


def module_spec(module, attribute, spec_type):
    """``module.attribute`` if it is a ``spec_type`` (its ``module`` field
    filled in), else None."""
    spec = getattr(module, attribute, None)
    if not isinstance(spec, spec_type):
        return None
    if not spec.module:
        object.__setattr__(spec, "module", module.__name__)  # specs are frozen dataclasses
    return spec
