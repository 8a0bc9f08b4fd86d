"""``gitreg serve`` as a process: workers, graceful shutdown, following a stage, serving a stage."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers.gitcli import git
from served_models import BrokenLoad, Constant, Refusing, Slow, Unencodable, register, register_seed

from gitreg import testing
from gitreg.registry import Registry

ROW = '{"inputs": [[1]]}'


def serve(registry: Registry, env: dict[str, str], *args: str) -> testing.ScoringServer:
    return testing.ScoringServer(*args, "-r", str(registry.path), env=env)


def wait_for(condition, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Firehose:
    """A thread scoring continuously on one keep-alive connection, recording every answer or failure."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.answers: list[object] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Firehose:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self._stop.is_set():
            try:
                conn.request("POST", "/invocations", ROW, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    self.failures.append(f"{resp.status} {body[:200]!r}")
                else:
                    self.answers.append(json.loads(body)["predictions"][0])
            except (OSError, http.client.HTTPException) as exc:
                self.failures.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.close()


def test_two_workers_are_forked_and_both_serve(registry: Registry, env: dict[str, str]) -> None:
    register(registry, "Pid", Slow(0.2))
    with serve(registry, env, "-m", "models:/Pid/1", "--workers", "2") as srv:
        assert f"on {srv.url} with 2 workers" in srv.output()
        wait_for(lambda: len(srv.worker_pids()) == 2, "two workers")
        workers = srv.worker_pids()
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda _: srv.post("/invocations", ROW), range(16)))
        assert [r.status for r in responses] == [200] * 16
        answered_by = {r.json()["predictions"][0] for r in responses}
        assert answered_by <= workers


class Pipeliner:
    """One connection that always has its next request waiting: a writer thread
    sends batches of pipelined requests back to back, a reader drains answers."""

    BATCH = (
        b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(ROW), ROW.encode())
    ) * 50

    def __init__(self, port: int) -> None:
        import socket

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.received = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=f, daemon=True) for f in (self._write, self._read)]

    def __enter__(self) -> Pipeliner:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.sock.close()

    def _write(self) -> None:
        while not self._stop.is_set():
            try:
                self.sock.sendall(self.BATCH)
            except OSError:
                return

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                chunk = self.sock.recv(1 << 16)
            except OSError:
                return
            if not chunk:
                return
            self.received += chunk.count(b"HTTP/1.1 200")


def test_a_client_that_never_pauses_neither_keeps_the_worker_nor_stops_its_heartbeat(
    registry: Registry, env: dict[str, str]
) -> None:
    """Its socket is always readable, so the worker would never switch away
    from it on its own: other clients would wait, and the master, hearing
    nothing for --timeout seconds, would kill the worker as stuck."""
    register_seed(registry)
    with serve(registry, env, "-m", "models:/LogisticRegression/1", "--timeout", "2") as srv:
        wait_for(lambda: len(srv.worker_pids()) == 1, "the worker")
        worker = srv.worker_pids()
        with Pipeliner(srv.port) as hose:
            deadline = time.monotonic() + 6  # three times --timeout
            while time.monotonic() < deadline:
                started = time.monotonic()
                assert srv.request("GET", "/ping", timeout=5).status == 200
                assert time.monotonic() - started < 2, "another client waited behind the pipelining one"
                time.sleep(0.2)
            assert hose.received > 100
        assert srv.worker_pids() == worker
        assert "WORKER TIMEOUT" not in srv.output()


def test_a_request_running_past_timeout_loses_its_worker_and_the_server_goes_on(
    registry: Registry, env: dict[str, str]
) -> None:
    """--timeout bounds a request, as MLflow's does: the worker scoring it
    is replaced (the client gets no answer) and a fresh one serves."""
    register(registry, "Stuck", Slow(30.0))
    with serve(registry, env, "-m", "models:/Stuck/1", "--timeout", "1") as srv:
        wait_for(lambda: len(srv.worker_pids()) == 1, "the worker")
        first = srv.worker_pids()
        with pytest.raises((OSError, http.client.HTTPException)):
            srv.post("/invocations", ROW)
        wait_for(lambda: srv.worker_pids() not in (set(), first), "a new worker")
        assert srv.request("GET", "/ping").status == 200
        assert "WORKER TIMEOUT" in srv.output()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_shutdown_signal_lets_the_request_in_flight_finish(
    registry: Registry, env: dict[str, str], tmp_path: Path, signum: int
) -> None:
    started = tmp_path / "started"
    register(registry, "Slow", Slow(1.0, str(started)))
    with serve(registry, env, "-m", "models:/Slow/1") as srv:
        result: dict[str, testing.Response] = {}
        client = threading.Thread(target=lambda: result.update(resp=srv.post("/invocations", ROW)))
        client.start()
        wait_for(started.exists, "the request to reach the model")
        srv.signal(signum)
        client.join(60)
        assert result["resp"].status == 200
        assert srv.wait(60) == 0
        with pytest.raises(OSError):
            srv.request("GET", "/ping", timeout=2)


def test_follow_swaps_versions_while_requests_flow_without_a_failure(registry: Registry, env: dict[str, str]) -> None:
    registry.promote("Echo", register(registry, "Echo", Constant(1)), "Production")
    with (
        serve(registry, env, "-m", "models:/Echo/Production", "--follow", "--interval", "0.2") as srv,
        Firehose(srv.port) as fire,
    ):
        wait_for(lambda: len(fire.answers) >= 20, "answers from version 1")
        registry.promote("Echo", register(registry, "Echo", Constant(2)), "Production")
        wait_for(lambda: fire.answers[-1] == 2, "the swap to version 2")
        seen = len(fire.answers)
        wait_for(lambda: len(fire.answers) >= seen + 20, "answers after the swap")
        meta = srv.request("GET", "/metadata").json()
    assert fire.failures == []
    assert fire.answers[0] == 1
    assert fire.answers == sorted(fire.answers), "answers went back to the old version"
    assert (meta["version"], meta["resolved_from"]) == (2, "Production")
    assert "Echo: swapped version 1 for version 2" in srv.output()


def test_follow_refuses_a_version_that_fails_to_load_and_keeps_the_old(registry: Registry, env: dict[str, str]) -> None:
    registry.promote("Echo", register(registry, "Echo", Constant(1)), "Production")
    with serve(registry, env, "-m", "models:/Echo/Production", "--follow", "--interval", "0.2") as srv:
        registry.promote("Echo", register(registry, "Echo", BrokenLoad()), "Production")
        wait_for(lambda: "refusing the new version of Echo" in srv.output(), "the refusal in the log")
        assert srv.post("/invocations", ROW).json() == {"predictions": [1]}
        assert srv.request("GET", "/metadata").json()["version"] == 1
        assert "this version cannot load" in srv.output()
        assert srv.request("GET", "/ping").status == 200


def test_stage_serves_each_model_at_its_own_path(registry: Registry, env: dict[str, str]) -> None:
    register_seed(registry)
    registry.promote("LogisticRegression", 1, "Production")
    registry.promote("Refuser", register(registry, "Refuser", Refusing()), "Production")
    registry.promote("Weird", register(registry, "Weird", Unencodable()), "Production")
    register(registry, "Unpromoted", Constant(5))
    with serve(registry, env, "--stage", "production") as srv:
        seed = srv.post(
            "/models/LogisticRegression/invocations",
            '{"columns":["x"], "data":[[1], [-1]]}',
            "application/json; format=pandas-split",
        )
        assert (seed.status, seed.body) == (200, b"[1, 0]")
        meta = srv.request("GET", "/models/LogisticRegression/metadata").json()
        assert (meta["version"], meta["resolved_from"]) == (1, "Production")
        listing = srv.request("GET", "/metadata").json()
        assert listing["stage"] == "Production"
        assert sorted(listing["models"]) == ["LogisticRegression", "Refuser", "Weird"]

        missing = srv.post("/models/Unpromoted/invocations", ROW)
        assert (missing.status, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
        assert srv.post("/invocations", ROW).status == 404

        refused = srv.post("/models/Refuser/invocations", ROW)
        assert refused.status == 400
        assert refused.json()["error_code"] == "BAD_REQUEST"
        assert "ValueError: x must be positive" in refused.json()["message"]

        broken = srv.post("/models/Weird/invocations", ROW)
        assert broken.status == 500
        assert set(broken.json()) == {"error_code", "message"}
        assert broken.json()["error_code"] == "INTERNAL_ERROR"
        assert "Traceback" not in broken.body.decode()
        assert "Traceback" in srv.output()  # logged server-side
        assert srv.request("GET", "/ping").status == 200


def test_stage_follow_adds_and_drops_models_as_the_stage_changes(registry: Registry, env: dict[str, str]) -> None:
    registry.promote("A", register(registry, "A", Constant("a")), "Production")
    with serve(registry, env, "--stage", "production", "--follow", "--interval", "0.2") as srv:
        assert srv.post("/models/A/invocations", ROW).json() == {"predictions": ["a"]}
        registry.promote("B", register(registry, "B", Constant("b")), "Production")
        wait_for(lambda: srv.post("/models/B/invocations", ROW).status == 200, "model B to be served")
        registry.demote("A", "Production")
        wait_for(lambda: srv.post("/models/A/invocations", ROW).status == 404, "model A to leave")
        assert srv.post("/models/B/invocations", ROW).json() == {"predictions": ["b"]}


def test_debug_adds_the_traceback_to_500_responses(registry: Registry, env: dict[str, str]) -> None:
    register(registry, "Weird", Unencodable())
    with serve(registry, env, "-m", "models:/Weird/1", "--debug") as srv:
        resp = srv.post("/invocations", ROW)
    assert resp.status == 500
    assert "Traceback" in resp.json()["stack_trace"]


def tamper_stage(registry: Registry, stage: str, path: str, content: bytes) -> None:
    """Commit ``path`` into the stage branch behind gitreg's back, as a bad merge on a forge would."""
    repo = registry.path
    branch = f"refs/heads/stages/{stage}"
    index = {"GIT_INDEX_FILE": str(registry.path / ".git" / "tamper-index")}
    blob = git(repo, "hash-object", "-w", "--stdin", input=content.decode()).strip()
    git(repo, "read-tree", branch, env=index)
    git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=index)
    tree = git(repo, "write-tree", env=index).strip()
    commit = git(repo, "commit-tree", tree, "-p", branch, "-m", "tamper").strip()
    git(repo, "update-ref", branch, commit)


def test_follow_refuses_a_stage_whose_content_differs_from_its_tag(registry: Registry, env: dict[str, str]) -> None:
    registry.promote("Echo", register(registry, "Echo", Constant(1)), "Production")
    with serve(registry, env, "-m", "models:/Echo/Production", "--follow", "--interval", "0.2") as srv:
        tamper_stage(registry, "production", "models/Echo/extra.py", b"print('not reviewed')\n")
        wait_for(lambda: "refusing the new version of Echo" in srv.output(), "the refusal in the log")
        assert "differs from tag" in srv.output()
        assert srv.post("/invocations", ROW).json() == {"predictions": [1]}
        assert srv.request("GET", "/metadata").json()["version"] == 1


def test_follow_on_a_remote_registry_fetches_and_swaps(bare_registry: Registry, env: dict[str, str]) -> None:
    """Served from a git URL (a mirror in the cache), a promotion pushed to the
    remote by someone else is fetched and served."""
    bare_registry.promote("Echo", register(bare_registry, "Echo", Constant(1)), "Production")
    url = f"file://{bare_registry.path}"
    args = ("-r", url, "-m", "models:/Echo/Production", "--follow", "--interval", "0.2")
    with testing.ScoringServer(*args, env=env) as srv:
        assert srv.post("/invocations", ROW).json() == {"predictions": [1]}
        bare_registry.promote("Echo", register(bare_registry, "Echo", Constant(2)), "Production")
        wait_for(lambda: srv.post("/invocations", ROW).json() == {"predictions": [2]}, "the fetched version 2")
        assert srv.request("GET", "/metadata").json()["version"] == 2
