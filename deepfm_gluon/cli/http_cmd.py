"""`deepfm-gluon serve`: the HTTP scoring server (docs/serving.md)."""
from ..errors import DeepFMError


def run(args):
    try:  # the ASGI stack is an optional extra: one clear line without it
        from ..serving.http_server import ServeConfig, serve  # start-up: only when serving
    except ImportError as err:
        if (err.name or "").split(".")[0] not in ("starlette", "uvicorn", "anyio", "h11"):
            raise
        raise DeepFMError(f"serve needs the serve extra ({err.name} is missing): "
                          "pip install 'deepfm-gluon[serve]'") from None
    config = ServeConfig(host=args.host, port=args.port, engine=args.engine,
                         max_batch_rows=args.max_batch_rows, max_wait_ms=args.max_wait_ms,
                         max_request_rows=args.max_request_rows, max_body_bytes=args.max_body_bytes)
    return serve(args.model_dir, config)
