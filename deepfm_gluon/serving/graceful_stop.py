"""What happened to the requests in flight when the server was told to stop.

``RequestTally`` (ASGI middleware) counts the requests being handled; once
``stop`` is called it counts how each of them ends: answered, or dropped (a
body that did not arrive within the shutdown grace gets 503, and a request
that outlives ``--graceful-timeout-s`` is cancelled by uvicorn). A cancelled
request is answered 503 here and ends quietly: uvicorn would otherwise log a
CancelledError traceback for it. ``StoppingServer`` is uvicorn's Server,
calling ``on_stop`` when its shutdown begins.
"""
import asyncio
import contextlib
import json

import uvicorn

STOPPING_STATUS = 503  # the only 503 the app sends: a request cut short by shutdown


def stopping_response(message):
    body = json.dumps({"error": message}).encode()
    return ({"type": "http.response.start", "status": STOPPING_STATUS,
             "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                         (b"content-length", str(len(body)).encode())]},
            {"type": "http.response.body", "body": body})


class RequestTally:
    """ASGI middleware: requests in flight, and after ``stop`` how each ended."""

    def __init__(self, app):
        self.app = app
        self.active = 0
        self.stopped = False
        self.answered = self.dropped = 0

    def stop(self):
        self.stopped = True

    def summary(self):
        """'2 requests in flight: 2 answered, 0 dropped' (or 'no requests in flight')."""
        total = self.answered + self.dropped
        if not total:
            return "no requests in flight"
        return (f"{total} request{'s' if total != 1 else ''} in flight: {self.answered} answered, "
                f"{self.dropped} dropped")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        statuses = []

        async def watched_send(message):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])
            await send(message)

        self.active += 1
        try:
            await self.app(scope, receive, watched_send)
        except asyncio.CancelledError:  # past --graceful-timeout-s at shutdown
            if not statuses:
                statuses.append(STOPPING_STATUS)
                with contextlib.suppress(BaseException):  # the client may be gone, or a second cancel
                    for message in stopping_response("the server stopped before this answer was ready"):
                        await send(message)
        finally:
            self.active -= 1
            if self.stopped:
                if statuses and statuses[0] != STOPPING_STATUS:
                    self.answered += 1
                else:
                    self.dropped += 1


class StoppingServer(uvicorn.Server):
    """uvicorn's Server; ``on_stop()`` runs (in the event loop) as shutdown begins."""

    def __init__(self, config, on_stop):
        super().__init__(config)
        self.on_stop = on_stop

    async def shutdown(self, sockets=None):
        self.on_stop()
        await super().shutdown(sockets=sockets)
