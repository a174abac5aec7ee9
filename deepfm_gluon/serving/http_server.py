"""The HTTP scoring server: Starlette under uvicorn.

    POST /predict   {"rows": [[raw values], ...]} or raw TSV lines -> {"probabilities": [...]}
    GET  /health    {"status": "ok"}
    GET  /metadata  model kind, config and saved test metrics, fields, engine, limits, versions

Rows from concurrent requests are scored together (``MicroBatcher``); a value
the encoder rejects fails its own request alone (request_scoring.py). Every
client error is a 4xx JSON ``{"error": "..."}`` that says what was expected,
never a logged traceback; an unexpected failure is a 500 for that request
only. Slow clients meet deadlines (slow_clients.py), an optional bearer token
guards all but /health (bearer_auth.py). SIGTERM or Ctrl-C stops accepting,
finishes the requests in flight and says how many were answered and dropped
(graceful_stop.py), then exits 0.
"""
import asyncio
import dataclasses
import errno
import json
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
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import DeepFMError
from ..limits import SERVE_SETTINGS, serve_setting_problem
from ..version import __version__
from .bearer_auth import BearerAuth
from .encoder_json import model_encoder
from .graceful_stop import STOPPING_STATUS, RequestTally, StoppingServer
from .micro_batcher import MicroBatcher
from .onnx_engine import ENGINES, import_onnxruntime, load_predictor
from .public_meta import data_kind
from .request_parsing import RequestError, parse_rows
from .request_scoring import score_requests
from .slow_clients import BodyDeadlines, header_deadline_protocol

log = logging.getLogger("deepfm_gluon.serving")


SHUTDOWN_BODY_GRACE_S = 1.0  # on SIGTERM, a body still arriving gets at most this much longer


def _setting(name):
    return dataclasses.field(default=SERVE_SETTINGS[name][3])


@dataclasses.dataclass
class ServeConfig:
    """Where to listen, which engine, the token and the limits (ranges and
    defaults: limits.SERVE_SETTINGS); checked in ``validate``."""

    host: str = "127.0.0.1"
    engine: str = "mxnet"
    token: str = None                 # the bearer token /predict and /metadata need; None: open
    port: int = _setting("port")
    max_batch_rows: int = _setting("max_batch_rows")      # rows per model call, from all waiting requests
    max_wait_ms: float = _setting("max_wait_ms")          # how long a batch waits for more requests
    max_request_rows: int = _setting("max_request_rows")  # rows in one request
    max_body_bytes: int = _setting("max_body_bytes")      # bytes in one request body
    max_header_bytes: int = _setting("max_header_bytes")  # request line and headers (h11)
    max_connections: int = _setting("max_connections")    # open connections; beyond: 503
    header_timeout_s: float = _setting("header_timeout_s")  # for a request's headers to arrive
    body_timeout_s: float = _setting("body_timeout_s")      # for its body to arrive
    keep_alive_s: float = _setting("keep_alive_s")          # an idle keep-alive connection's life
    graceful_timeout_s: float = _setting("graceful_timeout_s")  # on SIGTERM, for requests in flight
    onnx_threads: int = _setting("onnx_threads")  # ONNX Runtime threads per call (the loop needs a core)

    def validate(self):
        problems = []
        if self.engine not in ENGINES:
            problems.append(f"engine {self.engine!r} is not one of {', '.join(ENGINES)}")
        for name in SERVE_SETTINGS:
            problem = serve_setting_problem(name, getattr(self, name))
            if problem:
                problems.append(f"{name} {getattr(self, name)!r}: {problem}")
        if problems:
            raise DeepFMError("; ".join(problems))
        return self


def error(status, message, close=False):
    """A JSON ``{"error": message}`` answer; ASCII-escaped, so that a quoted
    value holding a lone surrogate cannot break the answer itself."""
    headers = {"connection": "close"} if close else None
    return Response(json.dumps({"error": message}), status_code=status, media_type="application/json",
                    headers=headers)


async def read_body(request, limit, deadlines):
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes,
    408 when it is not complete by the deadline (``deadlines.reading``), 503
    when shutdown cut it short."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, f"bad Content-Length {declared!r}")
        if int(declared) > limit:
            raise RequestError(413, f"body of {declared} bytes; at most {limit} per request")
    chunks, size = [], 0
    try:
        async with deadlines.reading():
            while True:
                message = await request.receive()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise RequestError(413, f"body over {limit} bytes; at most {limit} per request")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        if deadlines.stopping:
            raise RequestError(STOPPING_STATUS, f"the server is stopping; the body was not complete "
                                                f"({size} bytes received)") from None
        raise RequestError(408, f"the body was not complete within {deadlines.seconds:g} s "
                                f"({size} bytes received)") from None


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
    """What GET /metadata answers: no file-system path (model dir, training data)."""
    meta = predictor.meta
    return {"model": {"kind": meta["kind"], "config": meta["model_config"],
                      "data": data_kind(meta.get("data")), "mode": meta.get("mode"),
                      "test_metrics": meta.get("test_metrics"), "calibration": meta.get("calibration")},
            "engine": config.engine, "num_fields": encoder.num_fields, "fields": encoder.field_names,
            "input": {"application/json": '{"rows": [[v_1, ..., v_%d], ...]} (strings)'
                      % encoder.num_fields,
                      "text/tab-separated-values": "one row per line: fields, or label then fields"},
            "output": '{"probabilities": [p_1, ...]} click probabilities, in row order',
            "limits": {name: getattr(config, name) for name in SERVE_SETTINGS if name != "port"},
            "auth": "bearer token (all routes but /health)" if config.token else "none",
            "versions": versions(config.engine)}


def numpy_mode():
    """Worker-thread initializer: MXNet's numpy mode is per thread."""
    npx.set_np()


class App:
    """What ``build_app`` makes: ``asgi``, the application uvicorn runs (it
    counts the requests in flight: ``asgi.summary()``), and ``stop()``, called
    as shutdown begins (the count starts, bodies still arriving get a grace)."""

    def __init__(self, tally, deadlines):
        self.asgi, self.deadlines = tally, deadlines

    def stop(self):
        self.asgi.stop()
        self.deadlines.stop()


def build_app(predictor, encoder, config, on_ready=None):
    """The app scoring with ``predictor`` (a Predictor or OnnxPredictor) after
    ``encoder`` (the model's data encoder) turned raw values into indices; an App."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scoring",
                                  initializer=numpy_mode)
    batcher = MicroBatcher(lambda requests: score_requests(encoder, predictor.predict_features, requests),
                           executor, config.max_batch_rows, config.max_wait_ms / 1000.0)
    deadlines = BodyDeadlines(config.body_timeout_s, min(SHUTDOWN_BODY_GRACE_S, config.graceful_timeout_s))
    info = metadata(predictor, encoder, config)

    async def predict(request):
        try:
            body = await read_body(request, config.max_body_bytes, deadlines)
            rows = parse_rows(body, request.headers.get("content-type"), encoder.num_fields,
                              config.max_request_rows, table=encoder.table)
            if not rows:
                return JSONResponse({"probabilities": []})
            probs = await batcher.submit(rows)  # encoded once per batch, in the scoring thread
        except RequestError as err:  # the client's fault: no traceback in the log
            return error(err.status, err.message, close=err.status in (408, STOPPING_STATUS))
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
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: http_error, Exception: server_error})
    tally = RequestTally(BearerAuth(app, config.token) if config.token else app)
    return App(tally, deadlines)


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
        server = StoppingServer(uvicorn.Config(
            app.asgi, lifespan="on", log_level="warning", access_log=False,
            http=header_deadline_protocol(config.header_timeout_s),
            h11_max_incomplete_event_size=config.max_header_bytes,
            limit_concurrency=config.max_connections + 1,  # uvicorn counts the asking connection too
            timeout_keep_alive=config.keep_alive_s,
            timeout_graceful_shutdown=config.graceful_timeout_s), on_stop=app.stop)
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
    say(f"deepfm-gluon serve: stopped ({why}); {app.asgi.summary()}", flush=True)
    return 0
