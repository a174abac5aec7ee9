"""`deepfm-gluon export`: a trained model for ONNX Runtime or MXNet, encoder beside it."""


def add_parser(subparsers):
    p = subparsers.add_parser(
        "export", help="write a saved model as ONNX or MXNet symbol+params, with its encoder JSON")
    p.add_argument("--model-dir", required=True, help="a directory that `train` wrote")
    p.add_argument("--format", required=True, choices=["onnx", "mxnet"],
                   help="onnx: one .onnx file (opset 17; needs the serve extra); mxnet: "
                        "PATH-symbol.json and PATH-0000.params for SymbolBlock.imports")
    p.add_argument("--out", required=True,
                   help="onnx: the .onnx file; mxnet: the path prefix; an existing directory "
                        "gets model.* inside. The encoder goes beside it as *.encoder.json")
    p.set_defaults(run=run)


def run(args):
    from ..serving.export import export_model_dir  # heavy (MXNet): only when exporting
    if args.format == "onnx":
        try:
            import onnx  # noqa: F401 - optional extra, checked first for one clear line
        except ImportError:
            from ..errors import DeepFMError
            raise DeepFMError("--format onnx needs the serve extra: "
                              "pip install 'deepfm-gluon[serve]'") from None
    for path in export_model_dir(args.model_dir, args.format, args.out):
        print(f"wrote {path}")
    return 0
