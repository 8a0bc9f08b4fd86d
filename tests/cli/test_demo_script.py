"""``make demo`` refuses a taken port before doing anything, saying which variable to change."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_stops_at_once_when_its_port_is_taken_and_says_what_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            ["bash", str(ROOT / "scripts" / "demo.sh")],
            env={"PATH": "/usr/bin:/bin", "PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert out.returncode == 1
    assert f"Port {port} is already in use" in out.stderr and f"make demo PORT={port + 1}" in out.stderr
    assert out.stdout == ""  # nothing was set up or run


def test_demo_stops_at_the_first_failure() -> None:
    script = (ROOT / "scripts" / "demo.sh").read_text()
    assert "set -euo pipefail" in script
