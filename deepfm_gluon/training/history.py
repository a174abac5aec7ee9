"""What a training run produced, epoch by epoch: JSON-ready, saved in checkpoints."""
import dataclasses


@dataclasses.dataclass
class History:
    """Per-epoch records plus what produced them; JSON-ready via ``to_dict``.

    ``model``: 'fm'/'deepfm'; ``mode``: 'correct' or 'book-compat';
    ``devices``: context names; ``config``: the TrainConfig as a dict;
    ``epochs``: one dict per epoch (train_loss, test_auc, ...).
    """

    model: str
    mode: str
    devices: list
    config: dict
    epochs: list = dataclasses.field(default_factory=list)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)

    def last(self):
        return self.epochs[-1] if self.epochs else {}
