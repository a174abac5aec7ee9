"""What a training run produced, epoch by epoch: JSON-ready, saved in checkpoints."""
import dataclasses
from typing import Optional


@dataclasses.dataclass
class History:
    """Per-epoch records plus what produced them; JSON-ready via ``to_dict``.

    ``model``: 'fm'/'deepfm'; ``mode``: 'correct' or 'book-compat';
    ``devices``: context names; ``config``: the TrainConfig as a dict;
    ``epochs``: one dict per epoch (train_loss, test_auc, ..., and with a
    validation split val_auc, val_logloss, val_acc); ``early_stopping``: the
    EarlyStopping state (None without ``--early-stop``); ``chosen``: the
    epoch early stopping restored and the test metrics of those restored
    weights (None without ``--early-stop``).
    """

    model: str
    mode: str
    devices: list
    config: dict
    epochs: list = dataclasses.field(default_factory=list)
    early_stopping: Optional[dict] = None
    chosen: Optional[dict] = None

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)

    def last(self):
        return self.epochs[-1] if self.epochs else {}
