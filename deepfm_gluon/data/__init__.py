"""CTR data: the book's file format, its vocabulary rules, batching, and sources."""
from .batches import BatchIterator
from .ctr_dataset import CTRDataset
from .download import download_ctr
from .reader import SkipReport
from .sources import DataSplit, load_split
from .synthetic import SyntheticSpec, generate_synthetic

__all__ = ["BatchIterator", "CTRDataset", "DataSplit", "SkipReport", "SyntheticSpec",
           "download_ctr", "generate_synthetic", "load_split"]
