"""Helpers for testing code that uses gitreg, public like ``falcon.testing``:
an isolated environment, a temporary registry, the seed model, free ports.

The project's own tests use exactly these.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
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
