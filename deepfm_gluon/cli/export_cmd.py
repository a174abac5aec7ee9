"""`deepfm-gluon export`: a trained model for ONNX Runtime or MXNet, encoder beside it."""
from ..errors import DeepFMError
from ..serving.export import export_files, export_model_dir
from .outputs import check_new_file, check_not_device


def run(args):
    """`export --model-dir D --format onnx|mxnet --out PATH [--force]`: writes the
    model (PATH, or PATH-symbol.json and PATH-0000.params) and PATH's encoder
    JSON; returns the exit code 0 (DeepFMError, one line, otherwise). Every
    target is checked before anything is written, by predict's rules
    (cli/outputs.py) plus: no empty path, no device, an existing folder."""
    check_not_device(args.out)  # '' or /dev/null, before it becomes '.onnx' or '/dev/null.onnx'
    for path in export_files(args.format, args.out):
        check_new_file(path, folders=[args.model_dir], force=args.force)
    if args.format == "onnx":
        try:
            import onnx  # noqa: F401 - start-up: optional extra, checked first for one clear line
        except ImportError:
            raise DeepFMError("--format onnx needs the serve extra: "
                              "pip install 'deepfm-gluon[serve]'") from None
    for path in export_model_dir(args.model_dir, args.format, args.out):
        print(f"wrote {path}")
    return 0
