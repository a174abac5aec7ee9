"""The book's models as hybridizable Gluon blocks, plus what training needs around them."""
from .deepfm import DeepFM
from .fm import FM
from .logits import LogitView
from .registry import MODEL_KINDS, book_model_config, build_model

__all__ = ["DeepFM", "FM", "LogitView", "MODEL_KINDS", "book_model_config", "build_model"]
