"""What changed between two versions: manifest fields, notes and artifacts.

The comparison reads only the two version subtrees (their manifests and the
``requirements.txt`` blob) and the models' records on ``main``: artifact
changes come from the manifests' sha256 and size, so nothing is hashed or
checked out. Every mapping (metrics, params, tags, requirements, artifacts)
lists each key with a status, so a reader can show either the whole
comparison or only what changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gitreg.errors import NotFoundError
from gitreg.registry import Registry, VersionRef

Status = Literal["added", "removed", "changed", "same"]
REQUIREMENTS_FILE = "requirements.txt"
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _status(old: object, new: object) -> Status:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return "same" if old == new else "changed"


@dataclass(frozen=True)
class MetricChange:
    key: str
    old: float | None
    new: float | None

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def status(self) -> Status:
        return _status(self.old, self.new)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "old": self.old, "new": self.new, "delta": self.delta, "status": self.status}


@dataclass(frozen=True)
class ValueChange:
    """One key of a text mapping (a param, tag or requirement) in both versions."""

    key: str
    old: str | None
    new: str | None

    @property
    def status(self) -> Status:
        return _status(self.old, self.new)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "old": self.old, "new": self.new, "status": self.status}


@dataclass(frozen=True)
class ArtifactChange:
    path: str
    old_size: int | None
    new_size: int | None
    old_sha256: str | None
    new_sha256: str | None

    @property
    def status(self) -> Status:
        return _status(self.old_sha256, self.new_sha256)

    @property
    def size_delta(self) -> int:
        return (self.new_size or 0) - (self.old_size or 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "old_size": self.old_size,
            "new_size": self.new_size,
            "size_delta": self.size_delta,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
        }


@dataclass(frozen=True)
class VersionDiff:
    """``a`` -> ``b``: ``old`` is always ``a``'s value and ``new`` is ``b``'s."""

    a_name: str
    a_version: int
    b_name: str
    b_version: int
    flavor: tuple[str, str]
    signature: tuple[dict[str, Any] | None, dict[str, Any] | None]
    metrics: tuple[MetricChange, ...]
    params: tuple[ValueChange, ...]
    tags: tuple[ValueChange, ...]
    requirements: tuple[ValueChange, ...]
    artifacts: tuple[ArtifactChange, ...]

    @property
    def flavor_changed(self) -> bool:
        return self.flavor[0] != self.flavor[1]

    @property
    def signature_changed(self) -> bool:
        return self.signature[0] != self.signature[1]

    @property
    def identical(self) -> bool:
        """True when nothing a user could act on differs (notes included)."""
        groups = (self.metrics, self.params, self.tags, self.requirements, self.artifacts)
        return (
            not self.flavor_changed
            and not self.signature_changed
            and all(c.status == "same" for g in groups for c in g)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": {"name": self.a_name, "version": self.a_version},
            "b": {"name": self.b_name, "version": self.b_version},
            "identical": self.identical,
            "flavor": {"old": self.flavor[0], "new": self.flavor[1], "changed": self.flavor_changed},
            "signature": {"old": self.signature[0], "new": self.signature[1], "changed": self.signature_changed},
            "metrics": [c.to_dict() for c in self.metrics],
            "params": [c.to_dict() for c in self.params],
            "tags": [c.to_dict() for c in self.tags],
            "requirements": [c.to_dict() for c in self.requirements],
            "artifacts": [c.to_dict() for c in self.artifacts],
        }


def parse_requirements(text: str) -> dict[str, str]:
    """``requirements.txt`` as distribution name (normalised as pip does) ->
    the full requirement line; comments, blank lines and options are skipped."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        m = _REQ_NAME.match(line)
        key = re.sub(r"[-_.]+", "-", m.group(1)).lower() if m else line
        out[key] = line
    return out


def _keyed(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[ValueChange, ...]:
    return tuple(ValueChange(k, old.get(k), new.get(k)) for k in sorted({*old, *new}))


def _requirements(registry: Registry, ref: VersionRef) -> dict[str, str]:
    if ref.manifest.artifact(REQUIREMENTS_FILE) is None:
        return {}
    raw = registry.store.read_blob(f"{ref.tree}:{REQUIREMENTS_FILE}")
    return parse_requirements(raw.decode(errors="replace")) if raw is not None else {}


def _tags(registry: Registry, ref: VersionRef) -> dict[str, str]:
    try:
        return dict(registry.record(ref.name).version_notes(ref.version).tags)
    except NotFoundError:
        return {}


def diff_versions(registry: Registry, a: VersionRef, b: VersionRef) -> VersionDiff:
    """Compare version ``a`` (old) with ``b`` (new); they may belong to different models."""
    ma, mb = a.manifest, b.manifest
    metrics = tuple(MetricChange(k, ma.metrics.get(k), mb.metrics.get(k)) for k in sorted({*ma.metrics, *mb.metrics}))
    arts_a = {x.path: x for x in ma.artifacts}
    arts_b = {x.path: x for x in mb.artifacts}
    artifacts = []
    for path in sorted({*arts_a, *arts_b}):
        old, new = arts_a.get(path), arts_b.get(path)
        artifacts.append(
            ArtifactChange(
                path,
                old.size if old else None,
                new.size if new else None,
                old.sha256 if old else None,
                new.sha256 if new else None,
            )
        )
    return VersionDiff(
        a_name=a.name,
        a_version=a.version,
        b_name=b.name,
        b_version=b.version,
        flavor=(ma.flavor, mb.flavor),
        signature=(ma.signature.to_dict() if ma.signature else None, mb.signature.to_dict() if mb.signature else None),
        metrics=metrics,
        params=_keyed(ma.params, mb.params),
        tags=_keyed(_tags(registry, a), _tags(registry, b)),
        requirements=_keyed(_requirements(registry, a), _requirements(registry, b)),
        artifacts=tuple(artifacts),
    )
