"""Training settings as a plain dataclass; the book's values are the defaults."""
import dataclasses
from typing import Optional


@dataclasses.dataclass
class TrainConfig:
    """How to train. ``lr=None`` takes the book's rate for the model kind
    (DeepFM 0.01, FM 0.02).

    ``book_compat=True`` reproduces the book exactly: the loss gets the
    Block's sigmoid output (a double sigmoid) and the reports use d2l's
    accuracy. The default trains on logits and reports real metrics.

    ``sparse=True`` updates the embedding tables row-sparse with lazy
    optimizer steps (training/sparse.py): a step's cost no longer grows with
    the vocabulary. Equal to dense training for SGD; lazy Adam differs.
    """

    epochs: int = 30
    batch_size: int = 2048
    lr: Optional[float] = None
    optimizer: str = "adam"
    seed: int = 0
    book_compat: bool = False
    hybridize: bool = True
    devices: Optional[str] = None
    eval_batch_size: int = 8192
    progress: bool = True
    sparse: bool = False

    def to_dict(self):
        return dataclasses.asdict(self)
