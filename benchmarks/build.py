"""Building registries of a given size quickly, for measuring reads on them.

gitreg registries are built with :meth:`gitreg.registry.Registry.register_many`
(one chain of commits, one ref transaction), so 10,000 versions take seconds;
GTO repositories get the same number of version tags through one
``git fast-import`` stream, since GTO itself needs seconds per tag at that size.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitreg.registry import NewVersion, Package, Registry

TARGET = "M000"  # the model every per-model operation is measured on


def shape(versions: int) -> tuple[int, int]:
    """(models, versions per model) for a registry of ``versions`` versions: up to 100 models."""
    models = max(1, min(100, versions // 10))
    return models, versions // models


def model_names(models: int) -> list[str]:
    return [f"M{i:03d}" for i in range(models)]


def build_gitreg(path: Path, package: Package, versions: int, *, bare: bool = False, stages: bool = True) -> Registry:
    """A registry holding ``versions`` versions of the same package spread over
    up to 100 models (round-robin, as real registrations interleave), with
    (if ``stages``) each model's latest version in Production and its first in Staging."""
    models, per_model = shape(versions)
    reg = Registry.init(path, bare=bare)
    names = model_names(models)
    reg.register_many(NewVersion(name, package) for _ in range(per_model) for name in names)
    if stages:
        promote_all(reg, names, per_model)
    return reg


def promote_all(reg: Registry, names: list[str], per_model: int) -> None:
    """Stage moves, so that stage branches hold every model and have history."""
    for name in names:
        reg.promote(name, 1, "staging")
        reg.promote(name, per_model, "production")


def build_gto(path: Path, versions: int) -> None:
    """A git repository with ``versions`` GTO version tags (``M/vX.Y.Z`` is
    ``M@vX.Y.Z`` in GTO's grammar), each on its own commit, plus a production
    assignment per model, built with one ``git fast-import`` run."""
    models, per_model = shape(versions)
    names = model_names(models)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    stamp = "Bench <bench@example.com> 1700000000 +0000"
    out = []
    mark = 0
    last: dict[str, int] = {}
    for v in range(1, per_model + 1):
        for name in names:
            mark += 1
            content = f"{name} {v}\n".encode()
            msg = f"train {name} {v}\n".encode()
            out.append(
                b"commit refs/heads/main\nmark :%d\ncommitter %s\ndata %d\n%s" % (mark, stamp.encode(), len(msg), msg)
            )
            if mark > 1:
                out.append(b"from :%d\n" % (mark - 1))
            out.append(b"M 644 inline %s.txt\ndata %d\n%s\n" % (name.encode(), len(content), content))
            tag = f"{name}@v0.0.{v}".encode()
            tmsg = f"Registering artifact {name} version v0.0.{v}\n".encode()
            out.append(b"tag %s\nfrom :%d\ntagger %s\ndata %d\n%s\n" % (tag, mark, stamp.encode(), len(tmsg), tmsg))
            last[name] = mark
    for name in names:
        tag = f"{name}#production#1".encode()
        tmsg = f"Assigning stage production to artifact {name} version v0.0.{per_model}\n".encode()
        # the assignment tag points at the version's commit
        out.append(b"tag %s\nfrom :%d\ntagger %s\ndata %d\n%s\n" % (tag, last[name], stamp.encode(), len(tmsg), tmsg))
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(out), check=True)
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True)
