"""The book's models and the model zoo, as hybridizable Gluon blocks; each
model file declares a ``MODEL`` spec (models/spec.py) that the registry
collects."""
from .deepfm import DeepFM
from .fm import FM
from .logits import LogitView
from .registry import all_specs, book_model_config, build_model, get_spec, model_names, register
from .spec import ModelSpec

__all__ = ["DeepFM", "FM", "LogitView", "ModelSpec", "all_specs", "book_model_config", "build_model",
           "get_spec", "model_names", "register"]
