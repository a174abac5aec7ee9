"""The seeded fuzz grown to the HTTP server (issue 21): a real `serve` process
on 127.0.0.1, a real HTTP client and raw sockets, all at once: malformed
bodies (cut, flipped, huge numbers, NaN, wrong types, deep nesting, random
bytes, over the limits), malformed request lines and headers, slow clients
(partial headers, short bodies) and good requests, concurrently, so that bad
and good rows share micro-batches. Every good answer must equal `predict`'s
output for the same lines; nothing may get a 5xx; the log holds no
traceback; the server stops on SIGTERM with exit 0. SEED and the counts bound
it (about 20 s on 2 cores, most of it starting the server)."""
import asyncio
import json
import os
import random
import sys

import numpy as onp
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from deepfm_gluon.cli import main  # noqa: E402

from .conftest import csv_of  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "serving"))
from serve_process import Server  # noqa: E402

SEED = 21
GOOD = 60         # good requests (JSON and TSV), each checked against predict
BAD_BODIES = 4    # malformed bodies and content types, of each kind (BODY_FAULTS)
RAW = 2           # raw-socket cases of each kind (RAW_FAULTS): broken request lines and headers, slow clients
CONCURRENCY = 16  # requests in flight at once, well under --max-connections
SERVER_FLAGS = ["--max-wait-ms", "20", "--max-request-rows", "50", "--max-body-bytes", "200000",
                "--header-timeout-s", "1", "--body-timeout-s", "1", "--keep-alive-s", "1"]
ATOL = 1e-7  # predict prints 8 decimals


@pytest.fixture(scope="module")
def lines_and_predict(fm_run, small_data_dir, tmp_path_factory):
    """(the test file's lines, `predict`'s probability for each): the oracle."""
    out = tmp_path_factory.mktemp("fuzz_http") / "p.txt"
    assert main(["predict", "--model-dir", fm_run, "--input", csv_of(small_data_dir), "--output", str(out)]) == 0
    lines = open(csv_of(small_data_dir)).read().splitlines()
    probs = onp.loadtxt(out)
    assert len(probs) == len(lines)
    return lines, probs


def good_request(rng, lines, probs):
    """(body, content type, expected probabilities) of a valid request."""
    picks = [rng.randrange(len(lines)) for _ in range(rng.randint(1, 50))]
    if rng.random() < 0.7:
        rows = [lines[i].split("\t")[1:] for i in picks]
        body = json.dumps({"rows": rows}).encode()
        kind = rng.choice(["application/json", "application/json; charset=utf-8"])
    else:
        labelled = rng.random() < 0.5
        chosen = [lines[i] if labelled else lines[i].split("\t", 1)[1] for i in picks]
        body = (rng.choice(["\n", "\r\n"]).join(chosen) + rng.choice(["\n", ""])).encode()
        kind = rng.choice(["text/tab-separated-values", "text/plain"])
    return body, kind, probs[picks]


ODD_VALUES = [None, True, 7, -0.0, [], {}, "x" * 5000, ["a"]]
ODD_TEXT = ["7" * 5000, "NaN", "Infinity", "-Infinity", "1e99999", '"\\ud800"', '"\\udfff\\ud800"', "[" * 50000,
            "{}", "null", '"rows"']


BODY_FAULTS = ["cut", "flip", "odd_text", "odd_value", "drop_field", "add_field", "not_rows", "random_bytes",
               "not_utf8", "too_many_rows", "too_big", "content_type", "tsv_columns", "tsv_label", "empty"]


def bad_body(rng, lines, how):
    """(body, content type) of a request that is malformed in the way ``how``, seeded."""
    rows = [lines[rng.randrange(len(lines))].split("\t")[1:] for _ in range(rng.randint(1, 5))]
    body = json.dumps({"rows": rows})
    kind = "application/json"
    if how == "cut":
        return body[:rng.randrange(len(body))].encode(), kind
    if how == "flip":
        raw = bytearray(body.encode())
        for _ in range(rng.randint(1, 4)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw), kind
    if how == "odd_text":  # a raw JSON text where a value belongs
        row = json.dumps(rows[0][:-1])[:-1]
        return ('{"rows": [%s, %s]}' % (row, rng.choice(ODD_TEXT))).encode(), kind
    if how == "odd_value":
        rows[0][rng.randrange(len(rows[0]))] = rng.choice(ODD_VALUES)
        return json.dumps({"rows": rows}).encode(), kind
    if how == "drop_field":
        del rows[-1][rng.randrange(len(rows[-1]))]
    elif how == "add_field":
        rows[-1].append("x")
    elif how == "not_rows":
        return json.dumps(rng.choice([rows, {"row": rows}, {"rows": rows[0]}, {"rows": "abc"}])).encode(), kind
    elif how == "random_bytes":
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))), rng.choice(
            [kind, "text/tab-separated-values"])
    elif how == "not_utf8":
        return body.encode().replace(b'"', b'"\xff', 1), kind
    elif how == "too_many_rows":
        rows = rows * 60
    elif how == "too_big":
        return b'{"rows": [' + b'" ",' * 60000 + b"]}", kind
    elif how == "content_type":
        return body.encode(), rng.choice(["", "text/csv", "application/x-www-form-urlencoded", "image/png",
                                          "application/json-patch+json"])
    elif how == "tsv_columns":
        return "\t".join(rows[0][:-2]).encode(), "text/tab-separated-values"
    elif how == "tsv_label":
        return ("2\t" + "\t".join(rows[0])).encode(), "text/tab-separated-values"
    else:
        return b"", rng.choice([kind, "text/plain"])
    return json.dumps({"rows": rows}).encode(), kind


REQUEST = b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


RAW_FAULTS = ["partial_headers", "short_body", "bad_length", "two_lengths", "bad_header_name", "huge_header",
              "garbage_line", "unknown_method", "bad_chunks", "http10", "nothing"]


def raw_payload(rng, body, how):
    """(bytes a raw client sends, what it may get back) for one exchange broken the
    way ``how``: 'closed' (no answer: the header deadline), or the statuses allowed."""
    if how == "partial_headers":
        head = REQUEST + b"Content-Length: %d\r\n\r\n" % len(body)
        return head[:rng.randrange(1, len(head) - 4)], {"closed"}
    if how == "short_body":
        return REQUEST + b"Content-Length: %d\r\n\r\n" % len(body) + body[:rng.randrange(len(body))], {408}
    if how == "bad_length":
        return REQUEST + b"Content-Length: " + rng.choice([b"abc", b"-5", b"1e3", b"0x10"]) + b"\r\n\r\n", {400}
    if how == "two_lengths":
        return REQUEST + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\n{}", {400}
    if how == "bad_header_name":
        return REQUEST + b"Bad Header: x\r\nContent-Length: 2\r\n\r\n{}", {400}
    if how == "huge_header":
        return REQUEST + b"X-Big: " + b"a" * 40000 + b"\r\n\r\n", {400, "closed"}
    if how == "garbage_line":
        return bytes(rng.randrange(32, 127) for _ in range(40)) + b"\r\n\r\n", {400, "closed"}
    if how == "unknown_method":
        return b"BREW /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", {405}
    if how == "bad_chunks":
        return REQUEST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", {400, "closed"}
    if how == "http10":
        return (b"POST /predict HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % len(body) + body, {200})
    return b"", {"closed"}


async def raw_exchange(port, payload):
    """The status the server answered ``payload`` with, or 'closed' if it closed without one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 60)  # until the server closes
    finally:
        writer.close()
    if not data:
        return "closed"
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    return int(data.split(b" ", 2)[1])


def test_fuzz_http_server(fm_run, lines_and_predict):
    lines, probs = lines_and_predict
    rng = random.Random(SEED)
    goods = [good_request(rng, lines, probs) for _ in range(GOOD)]
    bads = [bad_body(rng, lines, how) for how in BODY_FAULTS * BAD_BODIES]
    json_bodies = [body for body, kind, _ in goods if kind.startswith("application/json")]
    raws = [raw_payload(rng, rng.choice(json_bodies), how) for how in RAW_FAULTS * RAW]
    srv = Server(fm_run, *SERVER_FLAGS)
    try:
        async def fuzz():
            gate = asyncio.Semaphore(CONCURRENCY)
            limits = httpx.Limits(max_connections=CONCURRENCY)
            async with httpx.AsyncClient(base_url=srv.url, timeout=60, limits=limits) as client:
                async def post(body, kind):
                    async with gate:
                        headers = {"Content-Type": kind} if kind else {}
                        return await client.post("/predict", content=body, headers=headers)

                async def raw(payload):
                    async with gate:
                        return await raw_exchange(srv.port, payload)
                jobs = ([post(b, k) for b, k, _ in goods] + [post(b, k) for b, k in bads]
                        + [raw(p) for p, _ in raws])
                order = list(range(len(jobs)))
                rng.shuffle(order)  # good and bad interleaved: they share micro-batches
                results = await asyncio.gather(*(jobs[i] for i in order))
                return [results[order.index(i)] for i in range(len(jobs))]
        results = asyncio.run(fuzz())
        good_answers, bad_answers, raw_answers = results[:GOOD], results[GOOD:GOOD + len(bads)], results[-len(raws):]
        for (body, kind, expected), answer in zip(goods, good_answers):
            assert answer.status_code == 200, (kind, body[:200], answer.text)
            onp.testing.assert_allclose(answer.json()["probabilities"], expected, rtol=0, atol=ATOL)
        for (body, kind), answer in zip(bads, bad_answers):
            assert answer.status_code < 500, (kind, body[:200], answer.text)
            if answer.status_code != 200:
                assert answer.json()["error"], answer.text  # a JSON error that says what was expected
        for (payload, allowed), status in zip(raws, raw_answers):
            assert status in allowed, (payload[:200], status)
        assert httpx.get(srv.url + "/health", timeout=60).status_code == 200
    finally:
        code = srv.stop()
    assert code == 0
    log = srv.log()
    assert "Traceback" not in log and "Error" not in log.replace("ErrorResponse", ""), log
    assert "stopped (SIGTERM)" in "".join(srv.lines)
