"""The values the registry hands out about its versions: where a version lives, what a URI named, a stage move."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from gitreg.manifest import Manifest
from gitreg.signature import Signature

#: How a URI reached its version: a number, ``latest``, or (any other value) the stage or alias it named.
Origin = Literal["version", "latest"] | str


@dataclass(frozen=True)
class Package:
    """A saved model ready to become a version: a directory of regular files
    and what its flavor says about them (built by :mod:`gitreg.package`)."""

    root: Path
    files: tuple[str, ...]
    flavor: str
    signature: Signature | None = None
    input_example: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    source: str | None = None
    #: who registered it and when (ms), kept from the registry it is imported from; None: now, by whoever writes
    registered: tuple[str, int] | None = None


@dataclass(frozen=True)
class NewVersion:
    """One version for :meth:`Registry.register_many`."""

    name: str
    package: Package
    description: str | None = None
    tags: dict[str, str] | None = None


@dataclass(frozen=True)
class VersionRef:
    """Where a version lives in git: its tag, the commit it tags and its subtree."""

    name: str
    version: int
    tag: str
    commit: str
    tree: str
    manifest: Manifest


@dataclass(frozen=True)
class Resolved:
    """What a model URI named, as of now."""

    ref: VersionRef
    via: Origin

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def version(self) -> int:
        return self.ref.version


@dataclass(frozen=True)
class StageMove:
    stage: str
    version: int | None  # None: removed from the stage
    previous: int | None
    commit: str
    author: str
    time: int
    subject: str
    body: str = ""
