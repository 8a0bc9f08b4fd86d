"""The values the MLflow-shaped API returns: ``ModelVersion`` and ``RegisteredModel``.

Field names follow MLflow's entities so code written against MLflow reads
them unchanged; ``commit`` and ``tag`` are gitreg's own additions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gitreg.signature import Signature

T = TypeVar("T")


class PagedList(list[T]):
    """One page of search results, as MLflow's ``PagedList``: a list, plus
    ``token`` to pass as ``page_token`` for the next page (None on the last)."""

    def __init__(self, items: Iterable[T] = (), token: str | None = None) -> None:
        super().__init__(items)
        self.token = token

    def to_list(self) -> list[T]:
        return list(self)


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    current_stage: str
    aliases: list[str]
    description: str
    tags: dict[str, str]
    run_id: str | None
    source: str | None
    creation_timestamp: int
    last_updated_timestamp: int
    user_id: str
    commit: str
    tag: str
    flavor: str
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    signature: Signature | None = None
    status: str = "READY"
    git_commit: str | None = None
    git_remote: str | None = None
    git_dirty: bool | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "current_stage": self.current_stage,
            "aliases": self.aliases,
            "description": self.description,
            "tags": self.tags,
            "run_id": self.run_id,
            "source": self.source,
            "creation_timestamp": self.creation_timestamp,
            "last_updated_timestamp": self.last_updated_timestamp,
            "user_id": self.user_id,
            "status": self.status,
            "commit": self.commit,
            "tag": self.tag,
            "flavor": self.flavor,
            "metrics": self.metrics,
            "params": self.params,
            "signature": self.signature.to_dict() if self.signature else None,
            "provenance": {"commit": self.git_commit, "remote": self.git_remote, "dirty": self.git_dirty},
        }


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str
    tags: dict[str, str]
    creation_timestamp: int
    last_updated_timestamp: int
    latest_versions: list[ModelVersion]
    aliases: dict[str, int]  # stage or alias -> version

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "tags": self.tags,
            "creation_timestamp": self.creation_timestamp,
            "last_updated_timestamp": self.last_updated_timestamp,
            "latest_versions": [v.to_dict() for v in self.latest_versions],
            "aliases": self.aliases,
        }
