"""`deepfm-gluon serve`: the HTTP scoring server (docs/serving.md)."""
from ..errors import DeepFMError
from ..limits import SERVE_SETTINGS


def run(args):
    try:  # the ASGI stack is an optional extra: one clear line without it
        from ..serving.bearer_auth import read_token_file  # start-up: only when serving
        from ..serving.http_server import ServeConfig, serve  # start-up: only when serving
    except ImportError as err:
        if (err.name or "").split(".")[0] not in ("starlette", "uvicorn", "anyio", "h11"):
            raise
        raise DeepFMError(f"serve needs the serve extra ({err.name} is missing): "
                          "pip install 'deepfm-gluon[serve]'") from None
    token = read_token_file(args.token_file) if args.token_file else None
    config = ServeConfig(host=args.host, engine=args.engine, token=token,
                         **{name: getattr(args, name) for name in SERVE_SETTINGS})
    return serve(args.model_dir, config)
