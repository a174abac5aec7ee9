"""`deepfm-gluon export`: a trained model for ONNX Runtime or MXNet, encoder beside it."""
from ..errors import DeepFMError
from ..serving.export import export_model_dir


def run(args):
    """`export --model-dir D --format onnx|mxnet --out PATH`: writes the model
    (PATH, or PATH-symbol.json and PATH-0000.params) and PATH's encoder JSON;
    returns the exit code 0 (DeepFMError, one line, otherwise)."""
    if args.format == "onnx":
        try:
            import onnx  # noqa: F401 - start-up: optional extra, checked first for one clear line
        except ImportError:
            raise DeepFMError("--format onnx needs the serve extra: "
                              "pip install 'deepfm-gluon[serve]'") from None
    for path in export_model_dir(args.model_dir, args.format, args.out):
        print(f"wrote {path}")
    return 0
