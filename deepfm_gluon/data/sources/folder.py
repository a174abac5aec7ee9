"""``--data DIR`` (or ``folder:DIR``): a folder holding d2l-format
``train.csv`` and ``test.csv``."""
import os

from ...errors import DeepFMError
from .spec import SourceSpec


def check_folder(args, data_dir, options):
    if not os.path.isdir(args):
        raise DeepFMError(f"--data folder:{args}: not a directory")
    for name in ("train.csv", "test.csv"):
        if not os.path.exists(os.path.join(args, name)):
            raise DeepFMError(f"--data {args}: has no {name}; expected train.csv and test.csv")
    return args


SOURCE = SourceSpec("folder", "a folder with train.csv and test.csv",
                    "d2l-format train.csv and test.csv in one folder", folder=check_folder)
