"""A real ``gitreg ui`` process on 127.0.0.1 for the tests, started and stopped
the way a user would: one home for the UI tests, the CLI's ``gitreg ui`` tests
and scripts/ui_screenshots.py (issue #11)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from gitreg import testing

__all__ = ["start_ui", "stop"]


def start_ui(
    registry: Path | str, *, allow_writes: bool, env: dict[str, str] | None = None, options: tuple[str, ...] = ()
) -> tuple[subprocess.Popen[str], str]:
    """``gitreg ui`` on ``registry`` (a path or a URL) with more ``options``, with ``env`` added to the environment."""
    port = testing.free_port()
    args = [sys.executable, "-m", "gitreg", "-r", str(registry), "ui", "--port", str(port), *options]
    if allow_writes:
        args.append("--allow-writes")
    proc = subprocess.Popen(
        args, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/static/style.css", timeout=5).read()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = proc.communicate()[0]
                raise RuntimeError(f"gitreg ui did not start:\n{out}") from None
            time.sleep(0.1)


def stop(proc: subprocess.Popen[str]) -> None:
    """Stop a :func:`start_ui` process: SIGTERM, then SIGKILL if
    it has not exited within 20 s, so a hung server never outlives its test."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
