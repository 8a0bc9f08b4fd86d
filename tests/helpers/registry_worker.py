"""A registry writer run as its own process by the reliability tests.

    python registry_worker.py REGISTRY register MODEL COUNT [GO_FILE]
    python registry_worker.py REGISTRY promote MODEL STAGE VERSION[,VERSION...] [GO_FILE]
    python registry_worker.py REGISTRY delete MODEL VERSION[,VERSION...] [GO_FILE]
    python registry_worker.py REGISTRY demote MODEL STAGE[,STAGE...] [GO_FILE]
    python registry_worker.py REGISTRY alias MODEL ALIAS VERSION[,VERSION...] [GO_FILE]
    python registry_worker.py REGISTRY rename MODEL NEW_NAME [GO_FILE]
    python registry_worker.py REGISTRY mixed MODEL SEED COUNT [GO_FILE]
    python registry_worker.py REGISTRY rounds ROUNDS GO_PREFIX ACTION ARG...

Prints ``{"ready": true}`` once the registry is open, waits for GO_FILE to
exist (so that all workers start together), then prints one JSON line per
call: ``{"ok": version}`` or ``{"error": class, "message": text}``, both
with ``op`` (the call made) and ``model``; a registration also reports its
content (``content``: the bytes of its ``model.pkl``, as text) and a rename
the versions it moved. ``mixed`` makes COUNT calls chosen by a
``random.Random(SEED)`` among register, promote, demote, delete, rename and
alias, all on MODEL (a rename takes MODEL away to a fresh name; the next
registration creates MODEL again). ``rounds`` runs ACTION ARG... once per
round ``i`` (0 to ROUNDS-1), after waiting for the file ``GO_PREFIX<i>``,
with ``{i}`` in its arguments replaced by ``i``; each line carries ``round``.

REGISTRY may be a git URL (``file://...``): the registry is then opened
through :func:`gitreg.locate.open_registry`, mirrored under
``GITREG_CACHE_DIR``.

A GitregError is a reported failure (a lost race may be one); anything else
is a crash and exits 2 with its traceback.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from gitreg.errors import GitregError
from gitreg.registry import Package, Registry

STAGES = ("Staging", "Production", "Archived", "champion")


def _package(tag: str) -> tuple[Package, str]:
    root = Path(tempfile.mkdtemp(prefix="gitreg-worker-"))
    content = f"not a pickle: {tag} {os.getpid()} {time.time_ns()}"
    (root / "model.pkl").write_bytes(content.encode())
    (root / "MLmodel").write_text("flavors:\n  python_function: {}\n")
    return Package(root=root, files=("MLmodel", "model.pkl"), flavor="python_function"), content


def _emit(**fields: object) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def _open(location: str) -> Registry:
    if "://" in location:
        from gitreg import locate

        return locate.open_registry(location)
    return Registry.open(location)


def _wait(go: Path | None) -> None:
    while go is not None and not go.exists():
        time.sleep(0.001)


class Calls:
    """The calls a worker makes, each reported as one JSON line."""

    def __init__(self, registry: Registry, extra: dict[str, object] | None = None) -> None:
        self.registry = registry
        self.extra = extra or {}

    def call(self, op: str, model: str, do: object, **fields: object) -> object:
        try:
            result = do()  # type: ignore[operator]
        except GitregError as exc:
            _emit(op=op, model=model, error=type(exc).__name__, message=str(exc), **fields, **self.extra)
            return None
        out = result if isinstance(result, dict) else {"ok": result}
        _emit(op=op, model=model, **out, **fields, warnings=list(self.registry.warnings), **self.extra)
        self.registry.warnings.clear()
        return result

    def register(self, model: str, tag: str) -> object:
        package, content = _package(tag)
        return self.call(
            "register", model, lambda: {"ok": self.registry.register(model, package).version, "content": content}
        )

    def promote(self, model: str, stage: str, version: int, **kw: bool) -> object:
        return self.call(
            "promote", model, lambda: self.registry.promote(model, version, stage, **kw).version, stage=stage
        )

    def delete(self, model: str, version: int) -> object:
        def do() -> int:
            self.registry.delete_version(model, version)
            return version

        return self.call("delete", model, do)

    def demote(self, model: str, stage: str) -> object:
        return self.call("demote", model, lambda: self.registry.demote(model, stage), stage=stage)

    def alias(self, model: str, alias: str, version: int) -> object:
        return self.call("alias", model, lambda: self.registry.set_alias(model, alias, version).version, stage=alias)

    def rename(self, model: str, new_name: str) -> object:
        def do() -> dict[str, object]:
            renamed = self.registry.rename_model(model, new_name)
            return {"ok": new_name, "versions": self.registry.version_numbers(renamed.name)}

        return self.call("rename", model, do, new_name=new_name)


def _mixed(calls: Calls, model: str, seed: int, count: int) -> None:
    rng = random.Random(seed)
    registry = calls.registry
    for i in range(count):
        op = rng.choices(["register", "promote", "demote", "delete", "rename", "alias"], [4, 4, 2, 2, 1, 2])[0]
        try:
            numbers = registry.version_numbers(model)
        except GitregError:
            numbers = []
        version = rng.choice(numbers) if numbers else rng.randint(1, 5)
        if op == "register" or not numbers:
            calls.register(model, f"{model}-{seed}-{i}")
        elif op == "promote":
            calls.promote(model, rng.choice(STAGES[:3]), version, archive_existing=rng.random() < 0.5)
        elif op == "demote":
            calls.demote(model, rng.choice(STAGES))
        elif op == "delete":
            calls.delete(model, version)
        elif op == "rename":
            calls.rename(model, f"{model}-renamed-{seed}-{i}")
        else:
            calls.alias(model, "champion", version)


def _run(calls: Calls, action: str, args: list[str]) -> None:
    registry = calls.registry
    if action == "register":
        model, count = args[0], int(args[1])
        for i in range(count):
            calls.register(model, f"{model}-{i}")
    elif action == "promote":
        for v in args[2].split(","):
            calls.promote(args[0], args[1], int(v))
    elif action == "delete":
        for v in args[1].split(","):
            calls.delete(args[0], int(v))
    elif action == "demote":
        for stage in args[1].split(","):
            calls.demote(args[0], stage)
    elif action == "alias":
        for v in args[2].split(","):
            calls.alias(args[0], args[1], int(v))
    elif action == "rename":
        calls.rename(args[0], args[1])
    elif action == "mixed":
        _mixed(calls, args[0], int(args[1]), int(args[2]))
    else:
        raise SystemExit(f"unknown action {action!r} for {registry}")


ARITY = {"register": 2, "promote": 3, "delete": 2, "demote": 2, "alias": 3, "rename": 2, "mixed": 3}


def main(argv: list[str]) -> int:
    location, action = argv[0], argv[1]
    registry = _open(location)
    if action == "rounds":
        rounds, prefix, inner, args = int(argv[2]), argv[3], argv[4], argv[5:]
        _emit(ready=True)
        for i in range(rounds):
            _wait(Path(f"{prefix}{i}"))
            _run(Calls(registry, {"round": i}), inner, [a.replace("{i}", str(i)) for a in args])
        return 0
    args = argv[2:]
    go = Path(args[ARITY[action]]) if len(args) > ARITY[action] else None
    _emit(ready=True)
    _wait(go)
    _run(Calls(registry), action, args[: ARITY[action]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
