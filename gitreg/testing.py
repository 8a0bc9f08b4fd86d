"""Helpers for testing code that uses gitreg, public like ``falcon.testing``:
an isolated environment, a temporary registry, the seed model, free ports,
a scoring server in a real process, and :func:`reset` between tests.

The project's own tests use exactly these.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitreg.registry import Registry


def isolated_env(root: Path) -> dict[str, str]:
    """Environment variables that keep git and gitreg away from the user's
    own configuration, caches and registries, with a fixed author."""
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "author@example.com",
        "GITREG_CACHE_DIR": str(root / "cache"),
        "GITREG_RUNS_DIR": str(root / "runs"),
        "GITREG_REGISTRY": "",
    }


def reset() -> None:
    """Forget what gitreg keeps for the whole process, so that no test sees another's registry:
    the registry chosen with :func:`gitreg.set_registry`, the registries :func:`gitreg.locate.open_registry`
    kept open (closed here), and the active run (dropped, not saved: its directory belongs to the
    test that started it). The project's own tests call it before and after each test."""
    from gitreg import locate, runs

    for reg in locate.opened():
        reg.close()
    locate._open.clear()
    locate.set_registry(None)
    runs._active = None


def seed_model() -> Any:
    """The seed tutorial's LogisticRegression, fitted."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    X = np.array([-2, -1, 0, 1, 2, 1]).reshape(-1, 1)
    y = np.array([0, 0, 1, 1, 1, 0])
    return LogisticRegression().fit(X, y)


def temporary_registry(path: Path, *, bare: bool = False) -> Registry:
    return Registry.init(path, bare=bare)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``gitreg ARGS`` as a real process (``python -m gitreg``)."""
    return subprocess.run(
        [sys.executable, "-m", "gitreg", *args],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def file_package(
    root: Path,
    files: dict[str, bytes | str],
    *,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    flavor: str = "python_function",
) -> Any:
    """A :class:`~gitreg.registry.Package` of the given files written under
    ``root``: a version to register in tests that are about the registry, not
    about a model (nothing is pickled or imported)."""
    from gitreg.registry import Package

    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return Package(
        root=root, files=tuple(sorted(files)), flavor=flavor, metrics=dict(metrics or {}), params=dict(params or {})
    )


def rss_kb(pid: int) -> int | None:
    """Resident memory of process ``pid`` in KiB, from /proc (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ScoringServer:
    """``gitreg serve ARGS`` as a real process on a free 127.0.0.1 port, for tests.

    A context manager: entering starts the server and waits until ``/ping``
    answers 200 (raising with the server's output if it exits first); leaving
    stops it with SIGTERM (SIGKILL after ``stop_timeout``). Output goes to
    files, read with :meth:`output`, so a chatty server never blocks on a pipe.
    """

    def __init__(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, ready_timeout: float = 60
    ) -> None:
        self.port = free_port()
        self.args = ("serve", *args, "--host", "127.0.0.1", "--port", str(self.port))
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready_after: float | None = None  # seconds from start to the first 200 from /ping
        self._logs = tempfile.TemporaryDirectory(prefix="gitreg-serve-")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ScoringServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()  # the output stays readable until this object is collected

    def start(self) -> None:
        logs = Path(self._logs.name)
        started = time.monotonic()
        with open(logs / "stdout", "wb") as out, open(logs / "stderr", "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gitreg", *self.args], env=self.env, cwd=self.cwd, stdout=out, stderr=err
            )
        deadline = started + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gitreg serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if self.request("GET", "/ping", timeout=2).status == 200:
                    self.ready_after = time.monotonic() - started
                    return
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"gitreg serve was not ready after {self.ready_timeout}s:\n{self.output()}")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> Response:
        """One request on a new connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def post(self, path: str, body: bytes | str, content_type: str | None = "application/json") -> Response:
        return self.request("POST", path, body, {"Content-Type": content_type} if content_type else {})

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 30) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def worker_pids(self) -> set[int]:
        """The server's worker processes: the Python children of its master
        (not the git processes it runs), read from /proc."""
        assert self.proc is not None, "start the server first"
        found = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                except OSError:
                    continue
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                if parent == self.proc.pid and b"python" in cmdline.split(b"\0")[0] and b"gitreg" in cmdline:
                    found.add(int(entry))
        return found

    def output(self) -> str:
        """What the server printed so far: stdout, then stderr."""
        logs = Path(self._logs.name)
        return "".join(
            (logs / name).read_bytes().decode(errors="replace")
            for name in ("stdout", "stderr")
            if (logs / name).exists()
        )
