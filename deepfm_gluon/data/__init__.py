"""CTR data: the book's file format, its vocabulary rules, batching, and sources."""
from .batches import BatchIterator
from .ctr_dataset import CTRDataset
from .download import download_ctr
from .encoders import HashingEncoder, VocabularyEncoder, load_encoder
from .protocol import CTRData
from .reader import SkipReport
from .sources import DataSplit, load_split
from .synthetic import SyntheticSpec, generate_synthetic

__all__ = ["BatchIterator", "CTRData", "CTRDataset", "DataSplit", "HashingEncoder", "SkipReport",
           "SyntheticSpec", "VocabularyEncoder", "download_ctr", "generate_synthetic", "load_encoder",
           "load_split"]
