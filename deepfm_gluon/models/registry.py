"""Model kinds by name, with the book's hyperparameters as defaults."""
from .deepfm import DeepFM
from .fm import FM

MODEL_KINDS = {"deepfm": DeepFM, "fm": FM}

# The book's settings: DeepFM chapter and FM chapter (lr belongs to training).
BOOK_SETTINGS = {
    "deepfm": {"model": {"num_factors": 10, "mlp_dims": [30, 20, 10], "drop_rate": 0.1}, "lr": 0.01},
    "fm": {"model": {"num_factors": 20}, "lr": 0.02},
}


def book_model_config(kind):
    """The book's constructor arguments for ``kind`` (without field_dims)."""
    return dict(BOOK_SETTINGS[kind]["model"])


def build_model(kind, field_dims, **overrides):
    """Build ``kind`` with the book's arguments, updated by ``overrides``."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {sorted(MODEL_KINDS)}")
    config = {**book_model_config(kind), **{k: v for k, v in overrides.items() if v is not None}}
    return MODEL_KINDS[kind](field_dims, **config)
