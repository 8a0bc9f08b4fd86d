"""A real Git LFS server on 127.0.0.1 for the tests: giftless (the LFS server
from the package index) with its local-storage backend, served by werkzeug's
WSGI server in a child process, so git-lfs talks to it over HTTP exactly as
it would to a forge's.

Run as a script it prints the port it listens on, then serves until killed.
Every request is appended to an access log (``METHOD PATH STATUS``), which is
how a test sees which objects a reader downloaded.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: How a server lets clients in. "read-only": anyone reads, nobody writes (a push gets 403);
#: "anonymous": anyone reads and writes; "token": only a JWT signed with the server's key,
#: sent as HTTP basic auth with user ``_jwt`` (what git's credential helpers supply), else 401.
AUTH = {
    "read-only": ["giftless.auth.allow_anon:read_only"],
    "anonymous": ["giftless.auth.allow_anon:read_write"],
    "token": None,  # filled with the key in _config
}
TOKEN_USER = "_jwt"


@dataclass(frozen=True)
class LFSServer:
    """A running server: ``url(org, repo)`` is what ``lfs.url`` should say for a repository."""

    base: str
    storage: Path
    log: Path
    key: str

    def url(self, org: str, repo: str) -> str:
        return f"{self.base}/{org}/{repo}.git/info/lfs"

    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request served so far, oldest first."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [(m, p, int(s)) for m, p, s in (line.split(" ") for line in lines)]

    def downloads(self) -> list[str]:
        """The object ids clients downloaded (GET of a stored object), in order."""
        return [p.rsplit("/", 1)[1] for m, p, s in self.requests() if m == "GET" and "/objects/storage/" in p]

    def stored(self) -> set[str]:
        """The object ids in the server's storage."""
        return {p.name for p in self.storage.rglob("*") if p.is_file()}

    def token(self, scope: str = "obj:*/*/*") -> str:
        """A JWT this server accepts (``scope`` in giftless's grammar), valid for an hour."""
        import jwt

        return jwt.encode({"exp": int(time.time()) + 3600, "scopes": [scope]}, self.key, algorithm="HS256")


@contextmanager
def lfs_server(root: Path, auth: str = "anonymous") -> Iterator[LFSServer]:
    """Start a giftless server storing under ``root`` (stopped on exit)."""
    root.mkdir(parents=True, exist_ok=True)
    storage, log, key = root / "storage", root / "access.log", "gitreg-test-key"
    args = [sys.executable, __file__, "--storage", str(storage), "--log", str(log), "--auth", auth, "--key", key]
    with open(root / "server.log", "wb") as errors:  # werkzeug's request lines and giftless's tracebacks
        proc = subprocess.Popen(
            args,
            cwd=root,  # giftless reads a .env from its working directory
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the LFS server did not start (exit {proc.wait(10)}): see {root / 'server.log'}")
        yield LFSServer(f"http://127.0.0.1:{port}", storage, log, key)
    finally:
        proc.terminate()
        proc.wait(10)
        assert proc.stdout is not None
        proc.stdout.close()


def _config(storage: str, auth: str, key: str) -> dict[str, Any]:
    providers = AUTH[auth] or [
        {"factory": "giftless.auth.jwt:factory", "options": {"algorithm": "HS256", "private_key": key}}
    ]
    return {
        "LEGACY_ENDPOINTS": False,
        "AUTH_PROVIDERS": providers,
        "TRANSFER_ADAPTERS": {"basic": {"options": {"storage_options": {"path": storage}}}},
        "PRE_AUTHORIZED_ACTION_PROVIDER": {"options": {"private_key": key}},
    }


def _logged(app: Callable[..., Iterable[bytes]], log: Path) -> Callable[..., Iterable[bytes]]:
    """``app`` appending ``METHOD PATH STATUS`` to ``log`` for every request."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            with open(log, "a") as fh:
                fh.write(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {status.split()[0]}\n")
            return start_response(status, headers, *exc)

        return app(environ, start)

    return wrapped


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--storage", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--auth", choices=sorted(AUTH), default="anonymous")
    parser.add_argument("--key", required=True)
    opts = parser.parse_args()
    import warnings

    from werkzeug.serving import make_server

    warnings.simplefilter("ignore", FutureWarning)  # giftless's notice about its legacy endpoints
    from giftless.app import init_app

    app = init_app(additional_config=_config(opts.storage, opts.auth, opts.key))
    app.wsgi_app = _logged(app.wsgi_app, Path(opts.log))  # type: ignore[method-assign]
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    print(httpd.server_port, flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
