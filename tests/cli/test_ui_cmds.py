"""``gitreg ui`` refuses what it cannot serve in one line, before serving anything."""

from __future__ import annotations

import socket

from gitreg.registry import Registry
from gitreg.testing import run_cli


def test_ui_on_a_missing_registry_is_a_one_line_error(env: dict[str, str]) -> None:
    proc = run_cli("ui", "-r", "/no/such/registry", env=env)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        "Error: Registry '/no/such/registry' does not exist. Create it with 'gitreg init /no/such/registry'."
    ]
    assert "Traceback" not in proc.stderr


def test_ui_on_a_port_in_use_is_a_one_line_error(registry: Registry, env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("ui", "-r", str(registry.path), "--port", str(port), env=env, timeout=60)
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        == f"Error: Cannot listen on 127.0.0.1:{port}: Address already in use. Choose another port with --port."
    )
    assert proc.stdout == ""
