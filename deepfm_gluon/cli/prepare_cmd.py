"""`deepfm-gluon prepare --data criteo:PATH`: build the Criteo cache once, up front."""
import sys

from ..data.sources import prepare_criteo_cache
from ..errors import DeepFMError
from .common import criteo_options


def run(args):
    if not args.data.startswith("criteo:"):
        raise DeepFMError(f"--data {args.data}: prepare builds caches of criteo:PATH files only")
    folder, meta = prepare_criteo_cache(args.data, args.data_dir, args.strict, criteo_options(args),
                                        log=lambda message: print(message, file=sys.stderr, flush=True))
    print(f"{folder}: {meta['num_train']} train / {meta['num_rows'] - meta['num_train']} test rows, "
          f"{sum(meta['field_dims'])} features")
    if meta["skip_report"]["skipped"]:
        print(f"warning: skipped {meta['skip_report']['skipped']} of {meta['skip_report']['total_lines']} lines")
    return 0
