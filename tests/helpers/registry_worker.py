"""A registry writer run as its own process by the reliability tests.

    python registry_worker.py REGISTRY register MODEL COUNT [GO_FILE]
    python registry_worker.py REGISTRY promote MODEL STAGE VERSION[,VERSION...] [GO_FILE]

Prints ``{"ready": true}`` once the registry is open, waits for GO_FILE to
exist (so that all workers start together), then prints one JSON line per
call: ``{"ok": version}`` or ``{"error": class, "message": text}``.
Anything that is not a GitregError is a crash and exits 2 with its traceback.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from gitreg.errors import GitregError
from gitreg.registry import Package, Registry


def _package(tag: str) -> Package:
    root = Path(tempfile.mkdtemp(prefix="gitreg-worker-"))
    (root / "model.pkl").write_bytes(f"not a pickle: {tag} {os.getpid()} {time.time_ns()}".encode())
    (root / "MLmodel").write_text("flavors:\n  python_function: {}\n")
    return Package(root=root, files=("MLmodel", "model.pkl"), flavor="python_function")


def _emit(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    registry_path, action, model = argv[0], argv[1], argv[2]
    go = Path(argv[5] if action == "promote" else argv[4]) if len(argv) > (5 if action == "promote" else 4) else None
    registry = Registry.open(registry_path)
    _emit(ready=True)
    while go is not None and not go.exists():
        time.sleep(0.001)
    if action == "register":
        count = int(argv[3])
        for i in range(count):
            try:
                mv = registry.register(model, _package(f"{model}-{i}"))
                _emit(ok=mv.version, warnings=list(registry.warnings))
                registry.warnings.clear()
            except GitregError as exc:
                _emit(error=type(exc).__name__, message=str(exc))
    elif action == "promote":
        stage = argv[3]
        for v in argv[4].split(","):
            try:
                mv = registry.promote(model, int(v), stage)
                _emit(ok=mv.version, warnings=list(registry.warnings))
            except GitregError as exc:
                _emit(error=type(exc).__name__, message=str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
