"""``gitreg serve`` over real HTTP: the seed's curl, every accepted body, every refusal.

One server process (the seed model) answers every test of this module; each
refusal is followed by a check that the server still answers.
"""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Iterator

import pytest
from served_models import seed_server

import gitreg
from gitreg import testing

SPLIT = "application/json; format=pandas-split"
RECORDS = "application/json; format=pandas-records"
TRACEBACK_MARKERS = ("Traceback", 'File "', "<html", "<!DOCTYPE")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.ScoringServer]:
    with seed_server(tmp_path_factory.mktemp("seed-server"), max_body=10000) as srv:
        yield srv


def assert_error(resp: testing.Response, status: int, code: str, *words: str) -> dict:
    """The response is MLflow's error shape with ``status``, naming ``words``, without a traceback."""
    assert resp.status == status, resp.body[:500]
    assert resp.headers["content-type"].startswith("application/json")
    doc = resp.json()
    assert set(doc) == {"error_code", "message"}, doc
    assert doc["error_code"] == code
    for word in words:
        assert word in doc["message"], doc["message"]
    text = resp.body.decode()
    assert not any(marker in text for marker in TRACEBACK_MARKERS), text
    return doc


def assert_still_serving(server: testing.ScoringServer) -> None:
    assert server.post("/invocations", '{"inputs": [[1.0]]}').json() == {"predictions": [1]}


def test_seed_curl_answers_the_bare_list(server: testing.ScoringServer) -> None:
    # curl -d '{"columns":["x"], "data":[[1], [-1]]}' -H 'Content-Type: application/json; format=pandas-split'
    resp = server.post("/invocations", '{"columns":["x"], "data":[[1], [-1]]}', SPLIT)
    assert resp.status == 200
    assert resp.body == b"[1, 0]"
    assert resp.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"dataframe_split": {"columns": ["x"], "data": [[1], [-1]]}}, "application/json"),
        ({"dataframe_split": {"columns": ["x"], "data": [[1], [-1]]}, "params": {}}, "application/json"),
        ({"dataframe_records": [{"x": 1}, {"x": -1}]}, "application/json"),
        ({"instances": [{"x": 1}, {"x": -1}]}, "application/json"),
        ({"inputs": {"x": [1, -1]}}, "application/json"),
        ({"inputs": [[1], [-1]]}, "application/json"),
        ({"dataframe_split": {"columns": ["x"], "data": [[1], [-1]]}}, "application/json; charset=utf-8"),
        ({"dataframe_split": {"columns": ["x"], "data": [[1], [-1]]}}, None),  # no Content-Type: read as JSON
        ({"dataframe_split": {"columns": ["extra", "x"], "data": [["a", 1], ["b", -1]]}}, "application/json"),
    ],
    ids=["split", "split-params", "records", "instances", "inputs-columns", "inputs-rows", "utf8", "no-type", "extra"],
)
def test_json_forms_answer_predictions(server: testing.ScoringServer, body: dict, content_type: str | None) -> None:
    resp = server.post("/invocations", json.dumps(body), content_type)
    assert resp.status == 200, resp.body
    assert resp.json() == {"predictions": [1, 0]}


def test_csv_answers_predictions(server: testing.ScoringServer) -> None:
    resp = server.post("/invocations", "x\n1\n-1\n", "text/csv")
    assert (resp.status, resp.json()) == (200, {"predictions": [1, 0]})


def test_legacy_records_answers_the_bare_list(server: testing.ScoringServer) -> None:
    resp = server.post("/invocations", '[{"x": 1}, {"x": -1}]', RECORDS)
    assert (resp.status, resp.body) == (200, b"[1, 0]")


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        ('{"dataframe_split": ', "application/json", ["malformed JSON", "line 1"]),
        ('{"columns": ["x"], "data": [[1]]}', "application/json", ["dataframe_split", "format=pandas-split"]),
        ('{"inputs": [[1]], "instances": [[1]]}', "application/json", ["exactly one", "'instances'", "'inputs'"]),
        ('{"dataframe_split": {"columns": ["y"], "data": [[1]]}}', "application/json", ["missing column", "'x'"]),
        ('{"dataframe_split": {"columns": ["x"], "data": [["abc"]]}}', "application/json", ["'x'", "double"]),
        ('x\n"1\n', "text/csv", ["malformed CSV"]),
        (b"\xff\xfe{}", "application/json", ["UTF-8"]),
    ],
    ids=["bad-json", "bare-split", "two-keys", "missing-column", "unconvertible", "bad-csv", "not-utf8"],
)
def test_bad_input_is_400_naming_the_problem(
    server: testing.ScoringServer, body: str | bytes, content_type: str, words: list[str]
) -> None:
    assert_error(server.post("/invocations", body, content_type), 400, "INVALID_PARAMETER_VALUE", *words)
    assert_still_serving(server)


def test_error_quotes_only_an_excerpt_of_a_large_bad_body(server: testing.ScoringServer) -> None:
    body = '{"dataframe_split": ' + "[" * 20 + "1" * 9000
    resp = server.post("/invocations", body)
    assert_error(resp, 400, "INVALID_PARAMETER_VALUE")
    assert len(resp.body) < 600


@pytest.mark.parametrize(
    ("content_type", "words"),
    [
        ("text/plain", ["text/plain", "application/json"]),
        ("application/json; charset=latin-1", ["charset", "UTF-8"]),
        ("application/json; format=pandas-columns", ["format"]),
    ],
)
def test_unsupported_media_is_415(server: testing.ScoringServer, content_type: str, words: list[str]) -> None:
    resp = server.post("/invocations", '{"inputs": [[1]]}', content_type)
    assert_error(resp, 415, "INVALID_PARAMETER_VALUE", *words)
    assert_still_serving(server)


def test_declared_body_over_the_limit_is_413(server: testing.ScoringServer) -> None:
    resp = server.post("/invocations", '{"inputs": [' + "1," * 6000 + "1]}")
    assert_error(resp, 413, "REQUEST_LIMIT_EXCEEDED", "10000 bytes", "--max-body")
    assert_still_serving(server)


def test_chunked_body_over_the_limit_is_413(server: testing.ScoringServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        chunks = iter([b'{"inputs": [', *([b"1," * 1000] * 6), b"1]}"])
        conn.request("POST", "/invocations", body=chunks, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        got = testing.Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()
    assert_error(got, 413, "REQUEST_LIMIT_EXCEEDED", "10000 bytes")
    assert_still_serving(server)


def test_chunked_body_under_the_limit_is_scored(server: testing.ScoringServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        chunks = iter([b'{"dataframe_split": {"columns": ["x"],', b' "data": [[1], [-1]]}}'])
        conn.request("POST", "/invocations", body=chunks, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert (resp.status, json.loads(resp.read())) == (200, {"predictions": [1, 0]})
    finally:
        conn.close()


def test_unknown_route_and_wrong_method_answer_json(server: testing.ScoringServer) -> None:
    assert_error(server.request("GET", "/nope"), 404, "ENDPOINT_NOT_FOUND")
    assert_error(server.request("GET", "/invocations"), 405, "METHOD_NOT_ALLOWED")


def test_ping_health_version_answer(server: testing.ScoringServer) -> None:
    assert server.request("GET", "/ping").status == 200
    assert server.request("GET", "/health").status == 200
    version = server.request("GET", "/version")
    assert version.status == 200
    assert version.body.decode() == gitreg.__version__


def test_metadata_names_the_version_that_answers(server: testing.ScoringServer) -> None:
    doc = server.request("GET", "/metadata").json()
    assert doc["name"] == "LogisticRegression"
    assert doc["version"] == 1
    assert doc["resolved_from"] == "version"
    assert doc["flavor"] == "sklearn"
    assert doc["tag"] == "LogisticRegression/v1"
    assert len(doc["commit"]) == 40
    assert doc["signature"]["inputs"] == [{"type": "double", "name": "x"}]
    assert doc["loaded_at"].endswith("+00:00")


def test_every_request_gets_an_access_log_line(server: testing.ScoringServer) -> None:
    server.request("GET", "/version?probe=1", headers={"User-Agent": 'access-log-probe "quoted"'})
    line = re.compile(
        r'^127\.0\.0\.1 \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /version\?probe=1 HTTP/1\.1" '
        r'200 \d+ \d+ms "access-log-probe \\"quoted\\""$',
        re.MULTILINE,
    )
    # The worker logs a request after answering it: the line may trail the response.
    deadline = time.monotonic() + 10
    while not line.search(server.output()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert line.search(server.output()), server.output()[-500:]


def test_ready_line_names_model_address_and_workers(server: testing.ScoringServer) -> None:
    line = f"Serving LogisticRegression version 1 (models:/LogisticRegression/1) on {server.url} with 1 worker"
    assert line in server.output()


def test_server_output_has_no_traceback_after_bad_requests(server: testing.ScoringServer) -> None:
    server.post("/invocations", "{", "application/json")
    assert "Traceback" not in server.output()
