"""Saved models: the directory format and scoring with it."""
from .model_dir import load_model_dir, save_model_dir
from .predictor import Predictor

__all__ = ["Predictor", "load_model_dir", "save_model_dir"]
