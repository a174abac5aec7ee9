"""An optional bearer token for the HTTP server (``serve --token-file F``).

The token is read once, from a file, so that it never appears on a command
line (``ps`` shows those to every user). Requests without
``Authorization: Bearer TOKEN`` get 401; the comparison takes the same time
wherever the first differing byte is (``hmac.compare_digest``). ``/health``
stays open, so that a load balancer's probe needs no secret.
"""
import hmac
import json
import os
import stat

from ..errors import DeepFMError

MAX_TOKEN_BYTES = 4096
# RFC 6750's b64token: the characters a bearer token may hold.
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=")
OPEN_PATHS = frozenset({"/health"})


def read_token_file(path):
    """The token (str) in ``path``: one line of RFC 6750 token characters,
    surrounding whitespace ignored; one-line DeepFMError otherwise."""
    flag = f"--token-file {path}"
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # before open: a FIFO would block it
            raise DeepFMError(f"{flag}: not a regular file")
        with open(path, "rb") as f:
            raw = f.read(MAX_TOKEN_BYTES + 1)
    except OSError as err:
        raise DeepFMError(f"{flag}: {err.strerror}") from None
    if len(raw) > MAX_TOKEN_BYTES:
        raise DeepFMError(f"{flag}: longer than {MAX_TOKEN_BYTES} bytes; expected one line holding the token")
    token = raw.strip().decode("ascii", errors="replace")
    if not token:
        raise DeepFMError(f"{flag}: is empty; expected one line holding the token")
    if not set(token) <= TOKEN_CHARS:
        raise DeepFMError(f"{flag}: expected one line of letters, digits and -._~+/= (RFC 6750)")
    return token


class BearerAuth:
    """ASGI middleware: 401 for any path but OPEN_PATHS without the right token."""

    def __init__(self, app, token):
        self.app = app
        self.expected = b"bearer " + token.encode("ascii")

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS and not self.allowed(scope):
            body = json.dumps({"error": "missing or wrong bearer token: send 'Authorization: "
                                        "Bearer TOKEN' (the token in serve's --token-file)"}).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode()),
                                    (b"www-authenticate", b'Bearer realm="deepfm-gluon"')]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def allowed(self, scope):
        given = [value for name, value in scope["headers"] if name == b"authorization"]
        if len(given) != 1:
            return False
        scheme, _, token = given[0].partition(b" ")
        return hmac.compare_digest(scheme.lower() + b" " + token.strip(), self.expected)
