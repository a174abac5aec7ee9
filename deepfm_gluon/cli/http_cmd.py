"""`deepfm-gluon serve`: the HTTP scoring server (docs/serving.md)."""
from .common import positive_int


def add_parser(subparsers):
    p = subparsers.add_parser("serve", help="an HTTP server: POST /predict, GET /health, GET /metadata")
    p.add_argument("--model-dir", required=True, help="a directory that `train` wrote")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed)")
    p.add_argument("--engine", choices=["mxnet", "onnxruntime"], default="mxnet")
    p.add_argument("--max-batch-rows", type=positive_int, default=2048,
                   help="rows per model call, gathered from concurrent requests")
    p.add_argument("--max-wait-ms", type=float, default=2.0,
                   help="how long a batch waits for more requests")
    p.add_argument("--max-request-rows", type=positive_int, default=10000)
    p.add_argument("--max-body-bytes", type=positive_int, default=4 << 20)
    p.set_defaults(run=run)


def run(args):
    from ..errors import DeepFMError
    try:  # heavy (MXNet, the ASGI stack): imported only when serving
        from ..serving.http_server import ServeConfig, serve
    except ImportError as err:
        if (err.name or "").split(".")[0] not in ("starlette", "uvicorn", "anyio", "h11"):
            raise
        raise DeepFMError(f"serve needs the serve extra ({err.name} is missing): "
                          "pip install 'deepfm-gluon[serve]'") from None
    config = ServeConfig(host=args.host, port=args.port, engine=args.engine,
                         max_batch_rows=args.max_batch_rows, max_wait_ms=args.max_wait_ms,
                         max_request_rows=args.max_request_rows, max_body_bytes=args.max_body_bytes)
    return serve(args.model_dir, config)
