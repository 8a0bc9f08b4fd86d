"""The two records a registry keeps per model, as frozen values.

* :class:`Manifest` (``models/<name>/gitreg.yaml``) is what was true at
  registration: it is frozen by the version tag and never rewritten.
* :class:`ModelRecord` (``models/<name>.yaml`` on ``main``) is what may change
  afterwards: descriptions, tags, tombstones, the next version number.

Both are validated field by field when read, so a corrupt or hand-edited file
is reported by name instead of failing somewhere later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from gitreg import yamlio
from gitreg.errors import InvalidInputError
from gitreg.names import check_model_name, check_tags
from gitreg.signature import Signature

MANIFEST_FILE = "gitreg.yaml"
FORMAT = 1


def check_artifact_path(path: object, where: str) -> str:
    """Artifact paths are relative, ``/``-separated, inside the model directory."""
    if not isinstance(path, str) or not path or "\x00" in path or "\\" in path:
        raise InvalidInputError(f"{where}: artifact path must be a non-empty relative path, got {path!r}.")
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..", ".git") for p in parts) or path == MANIFEST_FILE:
        raise InvalidInputError(f"{where}: artifact path {path!r} must stay inside the model directory.")
    return path


@dataclass(frozen=True)
class Artifact:
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Provenance:
    """Where the model came from: who registered it and the training repository."""

    author: str
    created: int  # milliseconds since the epoch, as MLflow's timestamps
    source: str | None = None
    run_id: str | None = None
    git_commit: str | None = None
    git_remote: str | None = None
    git_dirty: bool | None = None


def _metrics(raw: object, where: str) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: metrics must be a mapping of names to numbers.")
    out = {}
    for k, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise InvalidInputError(f"{where}: metric {k!r} must be a number, got {v!r}.")
        out[str(k)] = float(v)
    return out


def check_metrics(raw: object) -> dict[str, float]:
    """Metrics given by a user: finite numbers keyed by strings."""
    out = _metrics(raw, "metrics")
    for k, v in out.items():
        if not math.isfinite(v) or not k:
            raise InvalidInputError(f"Metric {k!r} must be a finite number, got {v!r}.")
    return out


def check_params(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInputError("Params must be a mapping of names to values.")
    return {str(k): str(v) for k, v in raw.items()}


@dataclass(frozen=True)
class Manifest:
    name: str
    version: int
    flavor: str
    artifacts: tuple[Artifact, ...]
    provenance: Provenance
    signature: Signature | None = None
    input_example: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    def artifact(self, path: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.path == path), None)

    def to_yaml(self) -> str:
        p = self.provenance
        data: dict[str, Any] = {
            "format": FORMAT,
            "name": self.name,
            "version": self.version,
            "flavor": self.flavor,
            "created": p.created,
            "author": p.author,
            "run_id": p.run_id,
            "source": p.source,
            "git": {"commit": p.git_commit, "remote": p.git_remote, "dirty": p.git_dirty} if p.git_commit else None,
            "metrics": self.metrics,
            "params": self.params,
            "signature": self.signature.to_dict() if self.signature else None,
            "input_example": self.input_example,
            "artifacts": [{"path": a.path, "sha256": a.sha256, "size": a.size} for a in self.artifacts],
        }
        return yamlio.dump(data)

    @classmethod
    def from_yaml(cls, text: bytes | str, where: str) -> Manifest:
        d = yamlio.load_mapping(text, where)
        if d.get("format") != FORMAT:
            raise InvalidInputError(f"{where}: unsupported manifest format {d.get('format')!r} (expected {FORMAT}).")
        for key, kind in (("name", str), ("version", int), ("flavor", str), ("created", int), ("author", str)):
            if not isinstance(d.get(key), kind) or isinstance(d.get(key), bool):
                raise InvalidInputError(f"{where}: field {key!r} is missing or not a {kind.__name__}.")
        try:
            check_model_name(d["name"])
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: {exc}") from None
        raw_artifacts = d.get("artifacts")
        if not isinstance(raw_artifacts, list) or not raw_artifacts:
            raise InvalidInputError(f"{where}: 'artifacts' must be a non-empty list.")
        artifacts = []
        for i, a in enumerate(raw_artifacts):
            if not isinstance(a, dict):
                raise InvalidInputError(f"{where}: artifacts[{i}] must be a mapping.")
            path = check_artifact_path(a.get("path"), f"{where}: artifacts[{i}]")
            sha, size = a.get("sha256"), a.get("size")
            if not isinstance(sha, str) or len(sha) != 64 or not isinstance(size, int) or isinstance(size, bool):
                raise InvalidInputError(f"{where}: artifacts[{i}] ({path}) needs a sha256 hex digest and a size.")
            artifacts.append(Artifact(path, sha.lower(), size))
        git = d.get("git") or {}
        if not isinstance(git, dict):
            raise InvalidInputError(f"{where}: 'git' must be a mapping.")
        example = d.get("input_example")
        if example is not None:
            example = check_artifact_path(example, f"{where}: input_example")
        signature = Signature.from_dict(d["signature"], f"{where}: signature") if d.get("signature") else None
        return cls(
            name=d["name"],
            version=d["version"],
            flavor=d["flavor"],
            artifacts=tuple(artifacts),
            provenance=Provenance(
                author=d["author"],
                created=d["created"],
                source=_opt_str(d.get("source")),
                run_id=_opt_str(d.get("run_id")),
                git_commit=_opt_str(git.get("commit")),
                git_remote=_opt_str(git.get("remote")),
                git_dirty=git.get("dirty") if isinstance(git.get("dirty"), bool) else None,
            ),
            signature=signature,
            input_example=example,
            metrics=_metrics(d.get("metrics"), where),
            params={str(k): str(v) for k, v in (d.get("params") or {}).items()},
        )


def _opt_str(v: object) -> str | None:
    return None if v is None else str(v)


@dataclass(frozen=True)
class VersionNotes:
    """A version's metadata that may change after registration."""

    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelRecord:
    name: str
    created: int
    next_version: int = 1
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    notes: dict[int, VersionNotes] = field(default_factory=dict)
    deleted: tuple[int, ...] = ()
    #: version -> the git tree of ``models/<name>/`` it was registered with.
    #: Appended at registration and never edited, it lets ``gitreg check``
    #: tell a version tag that was moved (``git tag -f``) from one that wasn't:
    #: the tag itself cannot rewrite this file on main.
    registered: dict[int, str] = field(default_factory=dict)

    def version_notes(self, version: int) -> VersionNotes:
        return self.notes.get(version, VersionNotes())

    def with_notes(self, version: int, notes: VersionNotes) -> ModelRecord:
        merged = dict(self.notes)
        if notes == VersionNotes():
            merged.pop(version, None)
        else:
            merged[version] = notes
        return replace(self, notes=merged)

    def to_yaml(self) -> str:
        data: dict[str, Any] = {
            "name": self.name,
            "created": self.created,
            "next_version": self.next_version,
            "description": self.description,
            "tags": self.tags,
            "versions": {v: {"description": n.description, "tags": n.tags} for v, n in sorted(self.notes.items())},
            "deleted": list(self.deleted),
        }
        if self.registered:
            data["registered"] = dict(sorted(self.registered.items()))
        return yamlio.dump(data)

    @classmethod
    def from_yaml(cls, text: bytes | str, where: str) -> ModelRecord:
        d = yamlio.load_mapping(text, where)
        name, nxt, created = d.get("name"), d.get("next_version"), d.get("created", 0)
        if not isinstance(name, str) or not isinstance(nxt, int) or nxt < 1 or not isinstance(created, int):
            raise InvalidInputError(f"{where}: needs 'name' (text), 'next_version' (integer >= 1) and 'created'.")
        notes = {}
        for v, n in (d.get("versions") or {}).items():
            if not isinstance(v, int) or not isinstance(n, dict):
                raise InvalidInputError(f"{where}: versions must map version numbers to mappings.")
            notes[v] = VersionNotes(str(n.get("description") or ""), check_tags(n.get("tags") or {}))
        deleted = d.get("deleted") or []
        if not isinstance(deleted, list) or not all(isinstance(v, int) for v in deleted):
            raise InvalidInputError(f"{where}: 'deleted' must be a list of version numbers.")
        registered = d.get("registered") or {}
        if not isinstance(registered, dict) or not all(
            isinstance(v, int) and isinstance(t, str) and len(t) == 40 for v, t in registered.items()
        ):
            raise InvalidInputError(f"{where}: 'registered' must map version numbers to git tree ids.")
        return cls(
            name=name,
            created=created,
            next_version=nxt,
            description=str(d.get("description") or ""),
            tags=check_tags(d.get("tags") or {}),
            notes=notes,
            deleted=tuple(deleted),
            registered=dict(registered),
        )
