"""The server against one hostile client (issue 21): a bad row fails its own
request alone, malformed numbers are 4xx, slow clients meet deadlines, SIGTERM
says what it did, a bearer token guards it, /metadata names no path, and every
numeric flag is bounded. Real `serve` processes, real HTTP clients and raw
sockets on 127.0.0.1; the trained nets are the oracles."""
import asyncio
import json
import os
import socket
import threading
import time

import numpy as onp
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from deepfm_gluon.cli.main import main  # noqa: E402
from deepfm_gluon.data.encoders import HashingEncoder  # noqa: E402
from deepfm_gluon.errors import DeepFMError  # noqa: E402
from deepfm_gluon.serving.encoder_json import model_encoder  # noqa: E402
from deepfm_gluon.serving.request_parsing import RequestError  # noqa: E402
from deepfm_gluon.serving.request_scoring import score_requests  # noqa: E402

from .serve_process import Server  # noqa: E402

ATOL = 1e-5
LONE_SURROGATE = "\ud800"  # valid in a JSON string, no UTF-8 bytes: a hashing encoder cannot hash it


def raw_connection(port):
    return socket.create_connection(("127.0.0.1", port), timeout=60)


def read_until_closed(sock):
    """Everything the server sends until it closes the connection."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_a_value_the_encoder_rejects_fails_its_own_request_alone(hashing_model):
    model_dir, rows, expected = hashing_model
    srv = Server(model_dir, "--max-wait-ms", "300")  # a long wait: the requests share a batch
    try:
        bad_row = list(rows[1])
        bad_row[19] = LONE_SURROGATE  # field 20, a categorical (hashed as UTF-8 bytes)

        async def burst():
            async with httpx.AsyncClient(base_url=srv.url, timeout=60) as client:
                good = [client.post("/predict", json={"rows": rows[i:i + 3]}) for i in range(0, 30, 3)]
                bad = client.post("/predict", content=json.dumps({"rows": [rows[0], bad_row]}),  # ASCII: \ud800
                                  headers={"Content-Type": "application/json"})
                return await asyncio.gather(bad, *good)
        bad, *good = asyncio.run(burst())
        assert bad.status_code == 422, bad.text
        assert bad.json()["error"].startswith("row 1 field 20: the model's encoder cannot encode '\\ud800'")
        for i, answer in zip(range(0, 30, 3), good):
            assert answer.status_code == 200, answer.text
            onp.testing.assert_allclose(answer.json()["probabilities"], expected[i:i + 3], rtol=0, atol=ATOL)
        served = httpx.get(srv.url + "/metadata").json()["served"]
        assert served["batches"] < len(good)  # they were scored together, the bad one with them
    finally:
        assert srv.stop() == 0
    assert "Traceback" not in srv.log(), srv.log()


def test_score_requests_bisects_to_the_first_bad_row_and_scores_the_rest_together():
    encoder = HashingEncoder(97, ["a", "b", "c"])
    good = [["x", "y", "z"], ["1", "2", "3"]]
    many = [["v%d" % i, "w", "u"] for i in range(200)]
    many[137][2] = LONE_SURROGATE
    calls = []

    def predict(features):
        calls.append(len(features))
        return features.sum(axis=1).astype(float)
    outcomes = score_requests(encoder, predict, [good, many, good[:1]])
    assert calls == [3]  # the good requests in one model call
    onp.testing.assert_array_equal(outcomes[0], encoder.encode(good).sum(axis=1))
    onp.testing.assert_array_equal(outcomes[2], encoder.encode(good[:1]).sum(axis=1))
    assert isinstance(outcomes[1], RequestError) and outcomes[1].status == 422
    assert outcomes[1].message.startswith("row 137 field 3: the model's encoder cannot encode '\\ud800'")


def test_huge_numbers_nan_and_infinity_are_4xx(hashing_model):
    model_dir, rows, _ = hashing_model
    srv = Server(model_dir)
    try:
        digits = "7" * 5000
        cases = [
            ('{"rows": [[%s%s]]}' % (digits, ', "x"' * 38), 422, "row 0 field 1: expected a string (the raw value), got number 777"),
            ('{"rows": %s}' % digits, 422, '"rows" must be a list of rows, got number 777'),
            ('{"rows": [[NaN]]}', 400, "bad JSON: NaN is not a JSON value"),
            ('{"rows": [[-Infinity]]}', 400, "bad JSON: -Infinity is not a JSON value"),
            ('{"rows": [[1e99999%s]]}' % (', "x"' * 38), 422, "got number 1e99999"),
            ('{"rows": [["%s"]]}' % ("\\ud800" * 3), 422, "row 0: 1 fields; expected 39"),
        ]
        with httpx.Client(base_url=srv.url, timeout=60) as client:
            for body, status, message in cases:
                answer = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
                assert answer.status_code == status, (body[:60], answer.text)
                assert message in answer.json()["error"], answer.text
    finally:
        assert srv.stop() == 0
    assert "Traceback" not in srv.log(), srv.log()


@pytest.mark.parametrize("flag,value,expected", [
    ("--max-wait-ms", "inf", "expected a number 0..5000 (milliseconds)"),
    ("--max-wait-ms", "1e308", "expected a number 0..5000 (milliseconds)"),
    ("--max-wait-ms", "nan", "expected a number 0..5000 (milliseconds)"),
    ("--max-batch-rows", "0", "expected an integer 1..1000000 (rows)"),
    ("--max-request-rows", "1e9", "expected an integer 1..1000000 (rows)"),
    ("--max-body-bytes", "-1", "expected an integer 1..1073741824 (bytes)"),
    ("--port", "70000", "expected an integer 0..65535 (a TCP port (0: a free one))"),
    ("--max-connections", "0", "expected an integer 1..10000 (connections)"),
    ("--header-timeout-s", "inf", "expected a number 0.1..600 (seconds)"),
    ("--body-timeout-s", "nan", "expected a number 0.1..3600 (seconds)"),
    ("--keep-alive-s", "0", "expected a number 0.1..3600 (seconds)"),
    ("--graceful-timeout-s", "-5", "expected a number 0.1..600 (seconds)"),
    ("--max-header-bytes", "10", "expected an integer 1024..1048576 (bytes)"),
    ("--onnx-threads", "100000", "expected an integer 1..256 (threads)"),
])
def test_every_numeric_serve_flag_is_bounded_in_one_line(flag, value, expected, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--model-dir", str(tmp_path), flag, value])
    assert exit_.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert errors == [f"deepfm-gluon serve: error: argument {flag}: {expected}, got {value!r}"]


def test_serve_config_refuses_what_the_flags_refuse():
    from deepfm_gluon.serving.http_server import ServeConfig
    with pytest.raises(DeepFMError, match=r"max_wait_ms inf: expected a number 0\.\.5000"):
        ServeConfig(max_wait_ms=float("inf")).validate()
    with pytest.raises(DeepFMError, match=r"max_connections 0: expected an integer 1\.\.10000"):
        ServeConfig(max_connections=0).validate()


def test_slow_clients_are_dropped_after_their_deadlines(trained_models):
    _, model_dir = trained_models["fm"]
    srv = Server(model_dir, "--header-timeout-s", "2", "--body-timeout-s", "2", "--max-connections", "3")
    try:
        partial = raw_connection(srv.port)
        partial.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Ty")
        short = raw_connection(srv.port)
        short.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100\r\n\r\n{\"rows\": ")
        silent = raw_connection(srv.port)
        # three connections held: a fourth one's request is refused, not queued
        assert httpx.get(srv.url + "/health", timeout=60).status_code == 503
        assert read_until_closed(partial) == b""  # closed without an answer
        answer = read_until_closed(short).decode()
        assert answer.startswith("HTTP/1.1 408 "), answer
        assert "the body was not complete within 2 s (9 bytes received)" in answer
        assert read_until_closed(silent) == b""
        assert httpx.get(srv.url + "/health", timeout=60).status_code == 200  # the slots are free again
    finally:
        assert srv.stop() == 0
    assert "Traceback" not in srv.log(), srv.log()


def test_sigterm_with_slow_clients_answers_what_it_can_and_says_so(trained_models, small_split):
    _, model_dir = trained_models["fm"]
    srv = Server(model_dir, "--max-wait-ms", "1500", "--body-timeout-s", "600", "--header-timeout-s", "600",
                 "--graceful-timeout-s", "60")
    rows = [line.split("\t")[1:] for line in open(small_split.test.data_path).read().splitlines()[:2]]
    answer = {}

    def held_request():  # waits up to 1.5 s in the batcher for company
        answer["r"] = httpx.post(srv.url + "/predict", json={"rows": rows}, timeout=60)
    partial = raw_connection(srv.port)
    partial.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
    short = raw_connection(srv.port)
    short.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{")
    thread = threading.Thread(target=held_request)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert srv.stop() == 0
    stopped_after = time.monotonic() - started
    thread.join(60)
    assert answer["r"].status_code == 200
    assert read_until_closed(partial) == b""
    assert read_until_closed(short).decode().startswith("HTTP/1.1 503 ")
    assert stopped_after < 30  # the slow clients held it for the 1 s grace, not the 60 s allowed
    out, log = "".join(srv.lines), srv.log()
    assert "stopped (SIGTERM); 2 requests in flight: 1 answered, 1 dropped" in out, out
    assert "Traceback" not in log and "CancelledError" not in log, log


def test_bearer_token_guards_all_but_health(trained_models, tmp_path):
    _, model_dir = trained_models["fm"]
    token_file = tmp_path / "token"
    token_file.write_text("s3cr3t-Token_1\n")
    srv = Server(model_dir, "--token-file", str(token_file))
    try:
        with httpx.Client(base_url=srv.url, timeout=60) as client:
            assert client.get("/health").status_code == 200
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cr3t-Token_1"},
                            {"Authorization": "Basic s3cr3t-Token_1"}):
                for answer in (client.get("/metadata", headers=headers),
                               client.post("/predict", json={"rows": []}, headers=headers)):
                    assert answer.status_code == 401, (headers, answer.text)
                    assert answer.headers["www-authenticate"].startswith("Bearer")
                    assert "bearer token" in answer.json()["error"]
            right = {"Authorization": "bearer s3cr3t-Token_1"}
            assert client.post("/predict", json={"rows": []}, headers=right).json() == {"probabilities": []}
            assert client.get("/metadata", headers=right).json()["auth"].startswith("bearer token")
    finally:
        assert srv.stop() == 0


@pytest.mark.parametrize("content,expected", [
    (None, "No such file or directory"),
    ("\n  \n", "is empty; expected one line holding the token"),
    ("two words", "expected one line of letters, digits"),
])
def test_a_bad_token_file_is_one_line(content, expected, trained_models, tmp_path, capsys):
    _, model_dir = trained_models["fm"]
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    assert main(["serve", "--model-dir", model_dir, "--port", "0", "--token-file", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--token-file {path}: {expected}" in err[0], err


def test_metadata_names_no_file_system_path(trained_models, small_split):
    _, model_dir = trained_models["deepfm"]
    srv = Server(model_dir)
    try:
        text = httpx.get(srv.url + "/metadata", timeout=60).text
    finally:
        srv.stop()
    meta = json.loads(text)
    assert meta["model"]["data"] in ("synthetic", "files")
    for path in (model_dir, os.path.dirname(small_split.test.data_path), os.path.expanduser("~"), "/tmp"):
        assert path not in text, path
