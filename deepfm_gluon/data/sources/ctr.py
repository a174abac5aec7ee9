"""``--data ctr``: the book's data set, downloaded from d2l's DATA_HUB (sha1
checked) into the data folder the first time."""
import os

from ..download import CTR_SHA1, CTR_URL, download_ctr
from .spec import SourceSpec


def resolve_ctr_dir(data_dir, url=CTR_URL, sha1=CTR_SHA1):
    """The book's data folder in ``data_dir``: extracted earlier, or downloaded
    from ``url`` and checked against ``sha1`` (DownloadUnavailable offline)."""
    local = os.path.join(data_dir, "ctr")
    if os.path.exists(os.path.join(local, "train.csv")):
        return local
    return download_ctr(data_dir, url=url, sha1=sha1)


SOURCE = SourceSpec("ctr", "ctr", "the book's data set (downloaded if absent)",
                    folder=lambda args, data_dir, options: resolve_ctr_dir(data_dir))
