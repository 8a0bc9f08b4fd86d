"""The Host and Origin rule against DNS rebinding (:mod:`gitreg.server.hosts`),
as a value, in the scoring app in-process, and in a real ``gitreg serve``."""

from __future__ import annotations

import socket

import falcon.testing
import pytest
from served_models import Constant, register

from gitreg import testing
from gitreg.errors import InvalidInputError
from gitreg.registry import Registry
from gitreg.server import create_app
from gitreg.server.hosts import ForeignOrigin, HostPolicy, MisdirectedRequest

ROW = '{"inputs": [[1]]}'


@pytest.mark.parametrize("host", ["localhost", "localhost:5001", "LOCALHOST.", "127.0.0.1:9", "[::1]", "[::1]:5001"])
def test_loopback_names_are_answered_on_any_port(host: str) -> None:
    HostPolicy.build().check_host(host)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5001", "127.0.0.1.evil.example", "0.0.0.0", "a b"])
def test_other_hosts_are_misdirected(host: str) -> None:
    with pytest.raises(MisdirectedRequest, match="--allowed-host") as caught:
        HostPolicy.build().check_host(host)
    assert caught.value.http_status == 421


def test_the_bound_address_is_answered_unless_it_is_a_wildcard() -> None:
    HostPolicy.build(bound="192.168.1.5").check_host("192.168.1.5:5001")
    HostPolicy.build(bound="::2").check_host("[::2]:5001")
    for wildcard in ("0.0.0.0", "::"):
        with pytest.raises(MisdirectedRequest):
            HostPolicy.build(bound=wildcard).check_host("192.168.1.5")
        with pytest.raises(MisdirectedRequest):
            HostPolicy.build(bound=wildcard).check_host("0.0.0.0")


def test_allowed_hosts_are_answered_and_star_answers_any() -> None:
    policy = HostPolicy.build(["models.internal", "Proxy.Example:8443", "::5"], bound="0.0.0.0")
    for host in ("models.internal", "models.internal:80", "proxy.example", "[::5]:1"):
        policy.check_host(host)
    HostPolicy.build("models.internal").check_host("models.internal")  # one name, not its letters
    HostPolicy.build(["*"]).check_host("anything.example")


def test_a_request_without_host_is_answered() -> None:
    HostPolicy.build().check_host(None)
    HostPolicy.build().check_host("")


@pytest.mark.parametrize("value", ["http://models.internal", "models.internal/path", "a b", "[::1", "x:port"])
def test_an_allowed_host_that_is_not_a_host_name_is_refused(value: str) -> None:
    with pytest.raises(InvalidInputError, match="not a host name"):
        HostPolicy.build([value])


def test_writes_from_the_request_origin_or_without_browser_headers_pass() -> None:
    policy = HostPolicy.build()
    policy.check_write("localhost:5001", "http://localhost:5001", None, "same-origin")
    policy.check_write("localhost", "https://localhost", None, None)
    policy.check_write("localhost:5001", None, "http://localhost:5001/models/M", None)
    policy.check_write("localhost:5001", None, None, None)  # curl, requests: no browser headers at all
    policy.check_write("localhost:5001", None, None, "none")


@pytest.mark.parametrize(
    ("origin", "referer", "fetch_site"),
    [
        ("http://evil.example", None, None),
        ("http://localhost:3000", None, None),  # another service on this machine
        ("http://127.0.0.1:5001", None, None),  # another origin, though the same server
        ("null", None, None),
        (None, "http://evil.example/page", None),
        (None, None, "cross-site"),
        (None, None, "same-site"),
        ("http://localhost:5001", None, "cross-site"),
    ],
)
def test_writes_from_another_origin_are_forbidden(
    origin: str | None, referer: str | None, fetch_site: str | None
) -> None:
    with pytest.raises(ForeignOrigin) as caught:
        HostPolicy.build().check_write("localhost:5001", origin, referer, fetch_site)
    assert caught.value.http_status == 403


def test_an_allowed_host_may_write_from_any_port_as_a_proxy_fronting_the_server() -> None:
    HostPolicy.build(["models.example"]).check_write("127.0.0.1:5001", "https://models.example", None, None)
    with pytest.raises(ForeignOrigin):  # '*' answers any Host but trusts no other origin
        HostPolicy.build(["*"]).check_write("127.0.0.1:5001", "https://evil.example", None, None)


@pytest.fixture
def client(registry: Registry) -> falcon.testing.TestClient:
    register(registry, "Echo", Constant(1))
    return falcon.testing.TestClient(create_app("models:/Echo/1", allowed_hosts=["models.internal"]))


def test_app_answers_a_rebound_host_with_421_and_says_what_to_do(client: falcon.testing.TestClient) -> None:
    for method in ("GET", "POST"):
        resp = client.simulate_request(method, "/invocations" if method == "POST" else "/ping", host="evil.example")
        assert resp.status_code == 421
        assert resp.json["error_code"] == "BAD_REQUEST"
        assert "start it with --allowed-host evil.example" in resp.json["message"]
    assert client.simulate_get("/ping", host="models.internal").status_code == 200
    assert client.simulate_get("/ping", host="localhost").status_code == 200


def test_app_scores_without_origin_and_refuses_a_foreign_one(client: falcon.testing.TestClient) -> None:
    scored = client.simulate_post("/invocations", host="localhost", body=ROW)
    assert scored.json == {"predictions": [1]}
    same = client.simulate_post("/invocations", host="localhost", body=ROW, headers={"Origin": "http://localhost"})
    assert same.status_code == 200
    foreign = client.simulate_post(
        "/invocations", host="localhost", body=ROW, headers={"Origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    assert foreign.json["error_code"] == "PERMISSION_DENIED"
    assert "http://evil.example" in foreign.json["message"]


def test_factory_refuses_an_allowed_host_that_is_not_a_name(registry: Registry) -> None:
    register(registry, "Echo", Constant(1))
    with pytest.raises(InvalidInputError, match="not a host name"):
        create_app("models:/Echo/1", allowed_hosts=["http://x/"])


def test_serve_process_answers_only_allowed_hosts(registry: Registry, env: dict[str, str]) -> None:
    register(registry, "Echo", Constant(1))
    args = ("-m", "models:/Echo/1", "-r", str(registry.path), "--allowed-host", "models.internal")
    with testing.ScoringServer(*args, env=env) as srv:
        assert srv.request("GET", "/ping").status == 200  # Host: 127.0.0.1:PORT, the bound address
        assert srv.request("GET", "/ping", headers={"Host": f"models.internal:{srv.port}"}).status == 200
        rebound = srv.request("POST", "/invocations", ROW, {"Host": f"evil.example:{srv.port}"})
        assert rebound.status == 421
        assert "--allowed-host evil.example" in rebound.json()["message"]
        foreign = srv.request("POST", "/invocations", ROW, {"Origin": "http://evil.example"})
        assert (foreign.status, foreign.json()["error_code"]) == (403, "PERMISSION_DENIED")
        assert srv.post("/invocations", ROW).json() == {"predictions": [1]}
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:  # HTTP/1.0: no Host
            sock.sendall(b"GET /ping HTTP/1.0\r\n\r\n")
            assert sock.makefile("rb").readline().split()[1] == b"200"


def test_serve_refuses_a_bad_allowed_host_before_starting(registry: Registry, env: dict[str, str]) -> None:
    register(registry, "Echo", Constant(1))
    result = testing.run_cli(
        "-r", str(registry.path), "serve", "-m", "models:/Echo/1", "--allowed-host", "http://x/", env=env
    )
    assert result.returncode != 0
    assert "not a host name" in result.stderr and "Traceback" not in result.stderr
