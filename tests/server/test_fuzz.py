"""Hostile requests against a real ``gitreg serve`` process: random JSON,
deep nesting, huge numbers, NaN, wrong types, CSV garbage, wrong content
types and missing or lying Content-Length. Every answer is a 4xx JSON error
(never a 5xx, never a traceback) and the next good request answers right."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from served_models import seed_server

from gitreg import testing

GOOD = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[2.0], [-2.0]]}})
CONTENT_TYPES = [
    "application/json",
    "application/json; format=pandas-split",
    "application/json; format=pandas-records",
    "text/csv",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "dataframe_split": json_values,
        "dataframe_records": json_values,
        "instances": json_values,
        "inputs": json_values,
        "columns": json_values,
        "data": json_values,
        "params": json_values,
    },
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.ScoringServer]:
    with seed_server(tmp_path_factory.mktemp("fuzz-server"), max_body=100000) as srv:
        yield srv


def assert_refused(resp: testing.Response) -> None:
    assert 400 <= resp.status < 500, (resp.status, resp.body[:300])
    assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
    doc = resp.json()
    assert set(doc) == {"error_code", "message"}, doc
    assert "Traceback" not in doc["message"] and 'File "' not in doc["message"]


def assert_answers(server: testing.ScoringServer) -> None:
    resp = server.request("POST", "/invocations", GOOD, {"Content-Type": "application/json"})
    assert resp.status == 200 and resp.json() == {"predictions": [1, 0]}, resp.body[:300]


def post(server: testing.ScoringServer, body: bytes | str, content_type: str) -> testing.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return server.request("POST", "/invocations", data, headers)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(body=st.one_of(json_values, shaped), content_type=st.sampled_from(CONTENT_TYPES[:3]))
def test_random_json_is_answered_or_refused_with_a_4xx_json_error(server, body, content_type):
    resp = post(server, json.dumps(body, allow_nan=True), content_type)
    if resp.status == 200:  # a fuzzed body can happen to be a valid request
        assert "predictions" in resp.json()
    else:
        assert_refused(resp)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(body=st.binary(max_size=300), content_type=st.sampled_from(CONTENT_TYPES))
def test_garbage_bytes_under_any_content_type_are_refused(server, body, content_type):
    resp = post(server, body, content_type)
    if resp.status != 200:
        assert_refused(resp)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"inputs": ' + "[" * 5000 + "1" + "]" * 5000 + "}",
        '{"inputs": [[1e999999]]}',
        '{"inputs": [[' + "9" * 5000 + "]]}",
        '{"inputs": [[NaN]]}',
        '{"inputs": [[Infinity]]}',
        '{"dataframe_split": {"columns": ["x"], "data": [["not a number"]]}}',
        '{"dataframe_split": {"columns": ["x"], "data": [[{"a": 1}]]}}',
        '{"dataframe_records": [{"x": []}]}',
        '{"dataframe_split": {"columns": ["y"], "data": [[1]]}}',
        '{"inputs": "x"}',
        "",
        "null",
        '"\\ud800"',
    ],
    ids=lambda b: b[:30],
)
def test_pathological_json_is_refused_and_the_server_keeps_answering(server, body):
    resp = post(server, body, "application/json")
    assert_refused(resp)
    assert_answers(server)


@pytest.mark.parametrize("body", ["x\n\x00\x01,\n", 'x\n"unterminated\n', "x,y\n1\n1,2,3\n", "\ufeffx\n1e999999\n"])
def test_csv_garbage_is_refused(server, body):
    resp = post(server, body, "text/csv")
    assert_refused(resp) if resp.status != 200 else None
    assert_answers(server)


def raw(server: testing.ScoringServer, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are and read until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(request)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


@pytest.mark.parametrize(
    "head",
    [
        b"Content-Length: 1000\r\n",  # promises more than it sends
        b"Content-Length: 3\r\n",  # promises less than it sends
        b"Content-Length: -5\r\n",
        b"Content-Length: abc\r\n",
        b"Content-Length: 99999999999999999999\r\n",
        b"",  # no Content-Length at all
        b"Content-Length: 17\r\nContent-Length: 18\r\n",
        b"Transfer-Encoding: chunked\r\n",
    ],
)
def test_missing_or_lying_content_length_never_gets_a_5xx(server, head):
    body = GOOD.encode()
    reply = raw(
        server, b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + head + b"\r\n" + body
    )
    status_line = reply.split(b"\r\n", 1)[0]
    if status_line:  # closing the connection without an answer is also fine
        status = int(status_line.split()[1])
        assert status < 500, reply[:500]
        assert b"Traceback" not in reply
    assert_answers(server)
