"""Deadlines that keep a slow or silent client from holding the server.

uvicorn 0.54 closes idle keep-alive connections (``timeout_keep_alive``),
limits open connections (``limit_concurrency``) and the size of a request's
headers (``h11_max_incomplete_event_size``), but it has no deadline for the
headers themselves or for the body: a client that sends half a request line,
or fewer bytes than its Content-Length, keeps its connection (and, at
shutdown, the server) forever. Two additions close that:

- ``header_deadline_protocol(seconds)``: uvicorn's h11 protocol with a timer
  armed when a connection opens and after each response, disarmed when a
  request's headers are complete; when it fires, the connection is closed.
- ``BodyDeadlines``: the ASGI app reads each body under a deadline; on
  shutdown every open read's deadline moves to at most ``grace`` seconds away.
"""
import asyncio
import contextlib

from uvicorn.protocols.http.h11_impl import H11Protocol


def header_deadline_protocol(seconds):
    """uvicorn's H11Protocol class, with a ``seconds`` deadline for each request's headers."""

    class HeaderDeadlineH11Protocol(H11Protocol):
        _header_timer = None

        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc):
            self._disarm()
            super().connection_lost(exc)

        def handle_events(self):
            cycle = self.cycle
            super().handle_events()
            if self.cycle is not cycle:  # a request's headers are complete
                self._disarm()

        def on_response_complete(self):
            self._arm()  # first: a pipelined request that super() starts disarms it
            super().on_response_complete()

        def _arm(self):
            self._disarm()
            self._header_timer = self.loop.call_later(seconds, self._headers_too_slow)

        def _disarm(self):
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self):
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineH11Protocol


class BodyDeadlines:
    """The deadlines of the bodies being read; ``stop`` shortens them all."""

    def __init__(self, seconds, grace):
        self.seconds, self.grace = seconds, grace
        self.stopping = False
        self._open = set()

    @contextlib.asynccontextmanager
    async def reading(self):
        """A context whose body read raises TimeoutError past the deadline."""
        now = asyncio.get_running_loop().time()
        when = now + (min(self.seconds, self.grace) if self.stopping else self.seconds)
        async with asyncio.timeout_at(when) as timeout:
            self._open.add(timeout)
            try:
                yield
            finally:
                self._open.discard(timeout)

    def stop(self):
        """Shutdown began: every open read ends within ``grace`` seconds."""
        self.stopping = True
        latest = asyncio.get_running_loop().time() + self.grace
        for timeout in self._open:
            if timeout.when() is not None and timeout.when() > latest:
                timeout.reschedule(latest)
