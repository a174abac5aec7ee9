"""`deepfm-gluon prepare --data NAME:PATH`: build a table file's cache once, up front."""
import sys

from ..data.sources import prepare_cache
from .common import data_options


def run(args):
    folder, meta = prepare_cache(args.data, args.data_dir, data_options(args),
                                 log=lambda message: print(message, file=sys.stderr, flush=True))
    print(f"{folder}: {meta['num_train']} train / {meta['num_rows'] - meta['num_train']} test rows, "
          f"{sum(meta['field_dims'])} features")
    if meta["skip_report"]["skipped"]:
        print(f"warning: skipped {meta['skip_report']['skipped']} of {meta['skip_report']['total_lines']} lines")
    return 0
