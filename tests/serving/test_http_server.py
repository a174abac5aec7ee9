"""The HTTP server as clients meet it: a real `deepfm-gluon serve` process on a
free port, a real HTTP client, the trained net as the oracle; malformed
requests get a clear 4xx and never take it down; SIGTERM stops it cleanly."""
import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as onp
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("onnxruntime")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from mxnet import np  # noqa: E402

from deepfm_gluon.data.reader import read_ctr_columns, read_text_lines  # noqa: E402
from deepfm_gluon.serving.http_server import bind_socket  # noqa: E402

from .serve_process import Server  # noqa: E402

ATOL = 1e-5


@pytest.fixture(scope="module")
def server(trained_models):
    _, model_dir = trained_models["deepfm"]
    srv = Server(model_dir, "--engine", "onnxruntime", "--max-request-rows", "1000",
                 "--max-body-bytes", "400000", "--max-wait-ms", "50")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def test_rows(small_split, trained_models):
    """(raw rows of the test file, the trained net's probabilities for them)."""
    net, _ = trained_models["deepfm"]
    _, values, _ = read_ctr_columns(small_split.test.data_path)
    probs = net(np.array(small_split.test.features, dtype="int32")).asnumpy().ravel()
    return values.tolist(), probs


def test_health_and_metadata(client):
    assert client.get("/health").json() == {"status": "ok"}
    meta = client.get("/metadata").json()
    assert meta["model"]["kind"] == "deepfm" and meta["engine"] == "onnxruntime"
    assert meta["num_fields"] == 34 and meta["fields"][0] == "1"
    assert {"deepfm_gluon", "mxnet", "onnxruntime", "onnx", "onnx_opset"} <= set(meta["versions"])
    assert meta["limits"]["max_request_rows"] == 1000
    saved = meta["model"]["test_metrics"]  # the trained model's saved test scores, every metric named once
    assert set(saved) == {"auc", "logloss", "ne", "calibration", "ece", "acc"} and 0.5 < saved["auc"] <= 1


def test_json_rows_whole_test_set_equal_the_trained_net(client, test_rows):
    rows, expected = test_rows
    got = client.post("/predict", json={"rows": rows})
    assert got.status_code == 200, got.text
    onp.testing.assert_allclose(got.json()["probabilities"], expected, rtol=0, atol=ATOL)


def test_raw_tsv_lines_with_and_without_labels(client, test_rows, small_split):
    rows, expected = test_rows
    lines = read_text_lines(small_split.test.data_path)[:50]
    labelled = client.post("/predict", content="\n".join(lines) + "\n",
                           headers={"Content-Type": "text/tab-separated-values"})
    bare = client.post("/predict", content="\r\n".join(l.split("\t", 1)[1] for l in lines),
                       headers={"Content-Type": "text/plain; charset=utf-8"})
    for answer in (labelled, bare):
        assert answer.status_code == 200, answer.text
        onp.testing.assert_allclose(answer.json()["probabilities"], expected[:50], rtol=0, atol=ATOL)
    empty = client.post("/predict", json={"rows": []})
    assert empty.status_code == 200 and empty.json() == {"probabilities": []}


def test_malformed_requests_get_a_clear_4xx_and_the_server_stays_up(client, test_rows):
    rows, expected = test_rows
    row = rows[0]
    tsv = {"Content-Type": "text/tab-separated-values"}
    cases = [
        (client.post("/predict", content=b'{"rows": [', headers={"Content-Type": "application/json"}),
         400, "bad JSON"),
        (client.post("/predict", json={"rows": [row[:-1]]}), 422, "row 0: 33 fields; expected 34"),
        (client.post("/predict", json={"rows": [row, row + ["x"]]}), 422, "row 1: 35 fields"),
        (client.post("/predict", json={"rows": [[7] + row[1:]]}), 422, "row 0 field 1: expected a string"),
        (client.post("/predict", json={"rows": [row[:-1] + [None]]}), 422, "field 34: expected a string"),
        (client.post("/predict", content=b"[" * 100000, headers={"Content-Type": "application/json"}),
         400, "nested too deeply"),
        (client.post("/predict", json={"rows": "abc"}), 422, '"rows" must be a list'),
        (client.post("/predict", json={"rows": [{"a": 1}]}), 422, "row 0: expected a list"),
        (client.post("/predict", json=[row]), 422, 'expected a JSON object {"rows"'),
        (client.post("/predict", content="a\tb\n", headers=tsv), 422, "line 1: 2 tab-separated columns"),
        (client.post("/predict", content=b"\xff\xfe", headers=tsv), 400, "not UTF-8"),
        (client.post("/predict", content="x", headers={"Content-Type": "image/png"}), 415, "unsupported Content-Type"),
        (client.post("/predict", json={"rows": [row] * 1001}), 413, "1001 rows; at most 1000"),
        (client.post("/predict", content=b"x" * 400001, headers=tsv), 413, "at most 400000"),
        (client.get("/predict"), 405, "Method Not Allowed"),
        (client.get("/nowhere"), 404, "Not Found"),
    ]
    for answer, status, message in cases:
        assert answer.status_code == status, (message, answer.text)
        assert message in answer.json()["error"], answer.text
    assert client.get("/health").status_code == 200
    again = client.post("/predict", json={"rows": rows[:3]})
    onp.testing.assert_allclose(again.json()["probabilities"], expected[:3], rtol=0, atol=ATOL)


def test_concurrent_clients_get_their_own_rows_in_order_and_share_batches(client, server, test_rows):
    rows, expected = test_rows
    before = client.get("/metadata").json()["served"]
    slices = [(i * 7 % 500, i * 7 % 500 + 1 + i % 9) for i in range(48)]

    async def burst():
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as c:
            return await asyncio.gather(*(c.post("/predict", json={"rows": rows[a:b]})
                                          for a, b in slices))
    answers = asyncio.run(burst())
    for (a, b), answer in zip(slices, answers):
        assert answer.status_code == 200, answer.text
        onp.testing.assert_allclose(answer.json()["probabilities"], expected[a:b], rtol=0, atol=ATOL)
    after = client.get("/metadata").json()["served"]
    assert after["rows"] - before["rows"] == sum(b - a for a, b in slices)
    assert after["batches"] - before["batches"] < len(slices)  # requests were scored together


def test_port_in_use_is_one_clear_line(server, trained_models):
    _, model_dir = trained_models["fm"]
    proc = subprocess.run([sys.executable, "-m", "deepfm_gluon", "serve", "--model-dir", model_dir,
                           "--port", str(server.port)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"deepfm-gluon serve: error: 127.0.0.1:{server.port} is already in use; stop what "
        "listens there or choose another --port"]


def test_sigterm_answers_the_request_in_flight_then_exits_0(trained_models, test_rows, small_split):
    rows, _ = test_rows
    net, model_dir = trained_models["fm"]
    srv = Server(model_dir, "--engine", "mxnet", "--max-wait-ms", "1500")
    answer = {}

    def slow_request():  # the batcher holds it up to 1.5 s waiting for company
        answer["r"] = httpx.post(srv.url + "/predict", json={"rows": rows[:2]}, timeout=60)
    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.5)  # let the request arrive; it is still waiting in the batch
    rc = srv.stop()
    thread.join(60)
    assert rc == 0, srv.log()
    assert answer["r"].status_code == 200
    expected = net(np.array(small_split.test.features[:2], dtype="int32")).asnumpy().ravel()
    onp.testing.assert_allclose(answer["r"].json()["probabilities"], expected, rtol=0, atol=ATOL)
    assert "stopped (SIGTERM)" in "".join(srv.lines)
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url + "/health", timeout=5)


def test_listening_socket_is_tcp_so_responses_are_not_delayed():
    """asyncio turns on TCP_NODELAY only for sockets whose proto says TCP; without it
    every response waited for the client's delayed ACK (about 40 ms)."""
    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
