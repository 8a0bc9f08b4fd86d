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
import re
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


def _show(value: object) -> str:
    """A value as an error message shows it: containers by kind, scalars clipped."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _whole(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _key(key: object, where: str, what: str) -> str:
    """A metric, param or tag name: text (a YAML integer key such as ``1:`` reads as its digits)."""
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    if not isinstance(key, str) or not key:
        raise InvalidInputError(f"{where}: {what} names must be non-empty text, got {_show(key)}.")
    return key


def _metrics(raw: object, where: str) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: metrics must be a mapping of names to numbers, got {_show(raw)}.")
    out = {}
    for k, v in raw.items():
        name = _key(k, where, "metric")
        number = _finite(v)
        if number is None:
            raise InvalidInputError(f"{where}: metric {name!r} must be a finite number, got {_show(v)}.")
        out[name] = number
    return out


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def check_metrics(raw: object) -> dict[str, float]:
    """Metrics given by a user: finite numbers keyed by non-empty text."""
    return _metrics(raw, "metrics")


def check_params(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInputError("Params must be a mapping of names to values.")
    return {str(k): str(v) for k, v in raw.items()}


def _params(raw: object, where: str) -> dict[str, str]:
    """Params as a manifest stores them: text (a hand-written number or boolean reads as its text)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: params must be a mapping of names to text, got {_show(raw)}.")
    out = {}
    for k, v in raw.items():
        name = _key(k, where, "param")
        if not isinstance(v, str | int | float):  # bool is an int
            raise InvalidInputError(f"{where}: param {name!r} must be text, got {_show(v)}; quote it.")
        out[name] = str(v)
    return out


def _text(d: dict[str, Any], key: str, where: str, *, empty: bool = False) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not (value or empty):
        raise InvalidInputError(
            f"{where}: field {key!r} must be {'' if empty else 'non-empty '}text, got {_show(value)}."
        )
    return value


def _artifact(raw: object, i: int, where: str) -> Artifact:
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: artifacts[{i}] must be a mapping with path, sha256 and size.")
    path = check_artifact_path(raw.get("path"), f"{where}: artifacts[{i}]")
    sha, size = raw.get("sha256"), raw.get("size")
    if not isinstance(sha, str) or not _DIGEST.fullmatch(sha):
        raise InvalidInputError(
            f"{where}: artifacts[{i}] ({path}): 'sha256' must be a hex digest of 64 characters, got {_show(sha)}."
        )
    if not _whole(size, 0):
        raise InvalidInputError(
            f"{where}: artifacts[{i}] ({path}): 'size' must be a whole number of bytes, got {_show(size)}."
        )
    assert isinstance(size, int)
    return Artifact(path, sha.lower(), size)


_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_TREE_ID = re.compile(r"[0-9a-fA-F]{40}")


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
        git = {"commit": p.git_commit, "remote": p.git_remote, "dirty": p.git_dirty}
        data: dict[str, Any] = {
            "format": FORMAT,
            "name": self.name,
            "version": self.version,
            "flavor": self.flavor,
            "created": p.created,
            "author": p.author,
            "run_id": p.run_id,
            "source": p.source,
            "git": git if any(v is not None for v in git.values()) else None,
            "metrics": self.metrics,
            "params": self.params,
            "signature": self.signature.to_dict() if self.signature else None,
            "input_example": self.input_example,
            "artifacts": [{"path": a.path, "sha256": a.sha256, "size": a.size} for a in self.artifacts],
        }
        return yamlio.dump(data)

    @classmethod
    def from_yaml(cls, text: bytes | str, where: str) -> Manifest:
        """Parse and validate a manifest; :class:`InvalidInputError` names
        ``where`` and the field at fault for anything not as gitreg writes it."""
        d = yamlio.load_mapping(text, where)
        fmt = d.get("format")
        if not _whole(fmt, FORMAT) or fmt != FORMAT:
            raise InvalidInputError(
                f"{where}: unsupported manifest format {_show(fmt)} (expected {FORMAT}); "
                "a newer gitreg wrote it, or the file was edited."
            )
        name = _model_name(_text(d, "name", where), where)
        version, created = d.get("version"), d.get("created")
        if not _whole(version, 1):
            raise InvalidInputError(f"{where}: field 'version' must be a whole number >= 1, got {_show(version)}.")
        if not _whole(created, 0):
            raise InvalidInputError(
                f"{where}: field 'created' must be milliseconds since the epoch, got {_show(created)}."
            )
        assert isinstance(version, int) and isinstance(created, int)
        artifacts = _artifacts(d.get("artifacts"), where)
        git = _git(d.get("git"), where)
        dirty = git.get("dirty")
        example = d.get("input_example")
        if example is not None:
            example = check_artifact_path(example, f"{where}: input_example")
        raw_signature = d.get("signature")
        signature = None if raw_signature is None else Signature.from_dict(raw_signature, f"{where}: signature")
        return cls(
            name=name,
            version=version,
            flavor=_text(d, "flavor", where),
            artifacts=artifacts,
            provenance=Provenance(
                author=_text(d, "author", where, empty=True),
                created=created,
                source=_opt_text(d.get("source"), where, "source"),
                run_id=_opt_text(d.get("run_id"), where, "run_id"),
                git_commit=_opt_text(git.get("commit"), where, "git.commit"),
                git_remote=_opt_text(git.get("remote"), where, "git.remote"),
                git_dirty=dirty,
            ),
            signature=signature,
            input_example=example,
            metrics=_metrics(d.get("metrics"), where),
            params=_params(d.get("params"), where),
        )


def _model_name(name: str, where: str) -> str:
    """``name`` if the name rules accept it, else their refusal naming ``where``."""
    try:
        return check_model_name(name)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None


def _artifacts(raw: object, where: str) -> tuple[Artifact, ...]:
    """A manifest's ``artifacts``: a non-empty list, each path listed once."""
    if not isinstance(raw, list) or not raw:
        raise InvalidInputError(f"{where}: 'artifacts' must be a non-empty list, got {_show(raw)}.")
    artifacts = tuple(_artifact(a, i, where) for i, a in enumerate(raw))
    seen: set[str] = set()
    for a in artifacts:
        if a.path in seen:
            raise InvalidInputError(f"{where}: artifact {a.path!r} is listed twice.")
        seen.add(a.path)
    return artifacts


def _git(raw: object, where: str) -> dict[str, Any]:
    """A manifest's ``git`` mapping (none: empty), its ``dirty`` a bool or null."""
    git = {} if raw is None else raw
    if not isinstance(git, dict):
        raise InvalidInputError(f"{where}: 'git' must be a mapping, got {_show(git)}.")
    dirty = git.get("dirty")
    if dirty is not None and not isinstance(dirty, bool):
        raise InvalidInputError(f"{where}: field 'git.dirty' must be true, false or null, got {_show(dirty)}.")
    return git


def _opt_text(value: object, where: str, key: str) -> str | None:
    """An optional text field; a number (a run id of digits written unquoted) reads as its text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidInputError(f"{where}: field {key!r} must be text or null, got {_show(value)}.")


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
        """Parse and validate a model's record; :class:`InvalidInputError`
        names ``where`` and the field at fault."""
        d = yamlio.load_mapping(text, where)
        name = _text(d, "name", where)
        try:
            check_model_name(name)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}: {exc}") from None
        nxt, created = d.get("next_version"), d.get("created", 0)
        if not _whole(nxt, 1):
            raise InvalidInputError(f"{where}: field 'next_version' must be a whole number >= 1, got {_show(nxt)}.")
        if not _whole(created, 0):
            raise InvalidInputError(
                f"{where}: field 'created' must be milliseconds since the epoch, got {_show(created)}."
            )
        assert isinstance(nxt, int) and isinstance(created, int)
        raw_notes = _mapping(d, "versions", where)
        notes = {}
        for v, n in raw_notes.items():
            if not _whole(v, 1) or not (n is None or isinstance(n, dict)):
                raise InvalidInputError(
                    f"{where}: 'versions' must map version numbers to mappings, got {_show(v)}: {_show(n)}."
                )
            at = f"versions.{v}"
            n = n or {}
            notes[v] = VersionNotes(_description(n, where, at), _tags(n, where, at))
        deleted = d.get("deleted")
        if deleted is None:
            deleted = []
        if not isinstance(deleted, list) or not all(_whole(v, 1) for v in deleted):
            raise InvalidInputError(
                f"{where}: field 'deleted' must be a list of version numbers, got {_show(deleted)}."
            )
        registered = _mapping(d, "registered", where)
        for v, tree in registered.items():
            if not _whole(v, 1) or not isinstance(tree, str) or not _TREE_ID.fullmatch(tree):
                raise InvalidInputError(
                    f"{where}: 'registered' must map version numbers to git tree ids, got {_show(v)}: {_show(tree)}."
                )
        return cls(
            name=name,
            created=created,
            next_version=nxt,
            description=_description(d, where),
            tags=_tags(d, where),
            notes=notes,
            deleted=tuple(deleted),
            registered=dict(registered),
        )


def _mapping(d: dict[Any, Any], key: str, where: str) -> dict[Any, Any]:
    value = d.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where}: field {key!r} must be a mapping, got {_show(value)}.")
    return value


def _description(d: dict[Any, Any], where: str, at: str = "") -> str:
    value = d.get("description")
    if value is not None and not isinstance(value, str):
        field = f"{at}.description" if at else "description"
        raise InvalidInputError(f"{where}: field {field!r} must be text, got {_show(value)}.")
    return value or ""


def _tags(d: dict[Any, Any], where: str, at: str = "") -> dict[str, str]:
    try:
        return check_tags(d.get("tags"))
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: field {f'{at}.tags' if at else 'tags'!r}: {exc}") from None
