"""The HTTP scoring server: Starlette under uvicorn.

    POST /predict   {"rows": [[raw values], ...]} or raw TSV lines -> {"probabilities": [...]}
    GET  /health    {"status": "ok"}
    GET  /metadata  model kind, config and saved test metrics, fields, engine, limits, versions

Rows from concurrent requests are scored together (``MicroBatcher``). Every
client error is a 4xx JSON ``{"error": "..."}`` that says what was expected;
an unexpected failure is a 500 for that request only. SIGTERM or Ctrl-C
stops accepting, finishes the requests in flight and exits 0.
"""
import asyncio
import dataclasses
import errno
import logging
import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import mxnet
import numpy as np
import uvicorn
from mxnet import npx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..version import __version__
from ..errors import DeepFMError
from .encoder_json import model_encoder
from .micro_batcher import MicroBatcher
from .onnx_engine import ENGINES, import_onnxruntime, load_predictor
from .request_parsing import RequestError, parse_rows

log = logging.getLogger("deepfm_gluon.serving")


@dataclasses.dataclass
class ServeConfig:
    """Where to listen, which engine, and the limits; checked in ``validate``."""

    host: str = "127.0.0.1"
    port: int = 8080
    engine: str = "mxnet"
    max_batch_rows: int = 2048        # rows per model call, from all waiting requests
    max_wait_ms: float = 2.0          # how long a batch waits for more requests
    max_request_rows: int = 10000     # rows in one request
    max_body_bytes: int = 4 << 20     # bytes in one request body
    graceful_timeout_s: int = 10      # on SIGTERM, how long requests in flight may take
    onnx_threads: int = 1             # ONNX Runtime threads per model call (the event loop needs a core)

    def validate(self):
        problems = []
        if self.engine not in ENGINES:
            problems.append(f"engine {self.engine!r} is not one of {', '.join(ENGINES)}")
        if not 0 <= self.port <= 65535:
            problems.append(f"port {self.port} is not in 0..65535")
        for name in ("max_batch_rows", "max_request_rows", "max_body_bytes", "graceful_timeout_s",
                     "onnx_threads"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1")
        if self.max_wait_ms < 0:
            problems.append("max_wait_ms must not be negative")
        if problems:
            raise DeepFMError("; ".join(problems))
        return self


def error(status, message):
    return JSONResponse({"error": message}, status_code=status)


async def read_body(request, limit):
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, f"bad Content-Length {declared!r}")
        if int(declared) > limit:
            raise RequestError(413, f"body of {declared} bytes; at most {limit} per request")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"body over {limit} bytes; at most {limit} per request")
        chunks.append(chunk)
    return b"".join(chunks)


def versions(engine):
    found = {"deepfm_gluon": __version__, "mxnet": mxnet.__version__, "numpy": np.__version__,
             "python": sys.version.split()[0]}
    if engine == "onnxruntime":
        # start-up: the extra's packages, loaded only with this engine
        import onnx
        import onnxruntime
        from .export_onnx import OPSET
        found.update(onnxruntime=onnxruntime.__version__, onnx=onnx.__version__, onnx_opset=OPSET)
    return found


def metadata(predictor, encoder, config):
    meta = predictor.meta
    return {"model": {"kind": meta["kind"], "config": meta["model_config"], "data": meta.get("data"),
                      "mode": meta.get("mode"), "test_metrics": meta.get("test_metrics")},
            "engine": config.engine, "num_fields": encoder.num_fields, "fields": encoder.field_names,
            "input": {"application/json": '{"rows": [[v_1, ..., v_%d], ...]} (strings)'
                      % encoder.num_fields,
                      "text/tab-separated-values": "one row per line: fields, or label then fields"},
            "output": '{"probabilities": [p_1, ...]} click probabilities, in row order',
            "limits": {"max_request_rows": config.max_request_rows,
                       "max_body_bytes": config.max_body_bytes,
                       "max_batch_rows": config.max_batch_rows, "max_wait_ms": config.max_wait_ms},
            "versions": versions(config.engine)}


def numpy_mode():
    """Worker-thread initializer: MXNet's numpy mode is per thread."""
    npx.set_np()


def join_rows(requests):
    """The raw rows of several requests (lists of lists of str), as one list."""
    return [row for rows in requests for row in rows]


def build_app(predictor, encoder, config, on_ready=None):
    """The Starlette app scoring with ``predictor`` (a Predictor or OnnxPredictor)
    after ``encoder`` (the model's data encoder) turned raw values into indices."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring",
                                  initializer=numpy_mode)
    batcher = MicroBatcher(lambda rows: predictor.predict_features(encoder.encode(rows)), executor,
                           config.max_batch_rows, config.max_wait_ms / 1000.0, join=join_rows)
    info = metadata(predictor, encoder, config)

    async def predict(request):
        try:
            body = await read_body(request, config.max_body_bytes)
            rows = parse_rows(body, request.headers.get("content-type"), encoder.num_fields,
                              config.max_request_rows)
            if not rows:
                return JSONResponse({"probabilities": []})
            probs = await batcher.submit(rows)  # encoded once per batch, in the scoring thread
        except RequestError as err:
            return error(err.status, err.message)
        except ClientDisconnect:
            return error(400, "client disconnected")
        except Exception as err:  # noqa: BLE001 - one request fails, the server stays up
            log.exception("scoring failed")
            return error(500, f"scoring failed: {type(err).__name__}: {err}")
        return JSONResponse({"probabilities": probs.astype(float).tolist()})

    async def health(request):
        return JSONResponse({"status": "ok"})

    async def describe(request):
        return JSONResponse({**info, "served": {"batches": batcher.batches, "rows": batcher.rows}})

    async def http_error(request, exc):
        return error(exc.status_code, f"{exc.detail}: {request.method} {request.url.path} "
                                      "(routes: POST /predict, GET /health, GET /metadata)")

    async def server_error(request, exc):
        return error(500, f"internal error: {type(exc).__name__}")

    @asynccontextmanager
    async def lifespan(app):
        warm = np.zeros((1, encoder.num_fields), dtype=np.int64)
        await asyncio.get_running_loop().run_in_executor(executor, predictor.predict_features, warm)
        batcher.start()
        if on_ready:
            on_ready()
        try:
            yield
        finally:
            await batcher.stop()
            executor.shutdown(wait=True)

    routes = [Route("/predict", predict, methods=["POST"]), Route("/health", health),
              Route("/metadata", describe)]
    return Starlette(routes=routes, lifespan=lifespan,
                     exception_handlers={HTTPException: http_error, Exception: server_error})


def bind_socket(host, port):
    """A listening socket, or one clear line when the address is taken."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise DeepFMError(f"cannot resolve host {host!r} ({err.strerror})") from None
    # proto must say TCP: asyncio sets TCP_NODELAY only on sockets that do, and
    # without it each response waits ~40 ms for the client's delayed ACK
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise DeepFMError(f"{host}:{port} is already in use; stop what listens there or "
                              "choose another --port") from None
        raise DeepFMError(f"cannot listen on {host}:{port} ({err.strerror})") from None
    sock.listen(1024)
    return sock


def serve(model_dir, config, say=print):
    """Serve ``model_dir`` until SIGTERM or Ctrl-C; returns 0 after a clean stop."""
    config.validate()
    if config.engine == "onnxruntime":
        import_onnxruntime()
    sock = bind_socket(config.host, config.port)  # before loading: a taken port fails at once
    try:
        engine_args = {"threads": config.onnx_threads} if config.engine == "onnxruntime" else {}
        predictor = load_predictor(model_dir, config.engine, **engine_args)
        encoder = model_encoder(model_dir)
        host, port = sock.getsockname()[:2]
        host = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
        ready = (f"deepfm-gluon serve: {predictor.meta['kind']} ({config.engine}) on "
                 f"http://{host}:{port}  POST /predict, GET /health, GET /metadata")
        app = build_app(predictor, encoder, config, on_ready=lambda: say(ready, flush=True))
        server = uvicorn.Server(uvicorn.Config(
            app, lifespan="on", log_level="warning", access_log=False,
            timeout_graceful_shutdown=config.graceful_timeout_s))
        # uvicorn handles SIGTERM/SIGINT gracefully, then re-raises the signal to
        # the handler it found: ours, so the process ends with 0 instead of dying.
        stops = []
        previous = {s: signal.signal(s, lambda sig, _: stops.append(sig))
                    for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            server.run(sockets=[sock])
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
    finally:
        sock.close()
    if not server.started:
        raise DeepFMError("the server did not start (see the log above)")
    why = signal.Signals(stops[0]).name if stops else "shutdown"
    say(f"deepfm-gluon serve: stopped ({why}); requests in flight were answered", flush=True)
    return 0
