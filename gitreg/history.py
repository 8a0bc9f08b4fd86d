"""A model's history: registrations (from its own tags) and stage moves
(from each stage branch's first-parent log), merged newest first.

A stage move that arrived through a pull request is recognised from what
forges write: a merge commit "Merge pull request #12 from org/branch"
(GitHub), "Merge branch 'promote/...' into 'stages/...'" with "See merge
request org/repo!12" (GitLab), or a squash commit ending in "(#12)". Rebase
and fast-forward merges leave no trace of the request and show as the
commits themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gitreg.registry import Registry, StageMove
from gitreg.registry.layout import model_tags

_GITHUB_MERGE = re.compile(r"^Merge pull request #(?P<number>\d+) from (?P<branch>\S+)")
_BRANCH_MERGE = re.compile(r"^Merge (?:remote-tracking )?branch '(?P<branch>[^']+)'")
_GITLAB_REQUEST = re.compile(r"See merge request \S*!(?P<number>\d+)")
_SQUASH = re.compile(r"\(#(?P<number>\d+)\)\s*$")


@dataclass(frozen=True)
class PullRequest:
    """How a stage move was merged: ``kind`` is "merge" or "squash"."""

    kind: str
    number: int | None
    branch: str | None

    def describe(self) -> str:
        number = f"#{self.number}" if self.number is not None else ""
        where = f" from {self.branch}" if self.branch else ""
        return f"{self.kind} {number}{where}".replace("  ", " ").strip()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "number": self.number, "branch": self.branch}


def pull_request_of(subject: str, body: str = "") -> PullRequest | None:
    """The pull request a commit's message says it merged, if any."""
    m = _GITHUB_MERGE.match(subject)
    if m:
        return PullRequest("merge", int(m.group("number")), m.group("branch"))
    m = _BRANCH_MERGE.match(subject)
    if m:
        request = _GITLAB_REQUEST.search(body)
        return PullRequest("merge", int(request.group("number")) if request else None, m.group("branch"))
    m = _SQUASH.search(subject)
    if m:
        return PullRequest("squash", int(m.group("number")), None)
    return None


@dataclass(frozen=True)
class Event:
    time: int  # seconds
    event: str  # "registered" or "stage"
    version: int | None
    stage: str | None
    previous: int | None
    author: str
    commit: str
    subject: str
    pull_request: PullRequest | None = None

    def describe(self) -> str:
        if self.event == "registered":
            return f"version {self.version} registered"
        if self.version is None:
            text = f"{self.stage}: version {self.previous} removed"
        else:
            was = f"version {self.previous}" if self.previous else "(none)"
            text = f"{self.stage}: {was} -> version {self.version}"
        return f"{text} ({self.pull_request.describe()})" if self.pull_request else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "event": self.event,
            "version": self.version,
            "stage": self.stage,
            "previous": self.previous,
            "author": self.author,
            "commit": self.commit,
            "subject": self.subject,
            "pull_request": self.pull_request.to_dict() if self.pull_request else None,
        }


def model_history(
    registry: Registry, name: str, stages: list[str] | None = None, *, latest: int | None = None
) -> list[Event]:
    """Registrations (unless ``stages`` narrows it to stage moves) and stage
    moves of ``name``, newest first. ``latest`` keeps only that many: then
    only the newest ``latest`` version tags are read in detail (numbers grow
    with registration time), not every tag of a model with thousands."""
    registry.record(name)
    events = []
    if not stages:
        prefix = model_tags(name) + "v"
        tags = [ref for ref in registry.store.ref_oids(model_tags(name)) if ref[len(prefix) :].isdigit()]
        if latest is not None:
            tags = sorted(tags, key=lambda ref: int(ref[len(prefix) :]))[-latest:] if latest > 0 else []
            infos = registry.store.list_refs(*tags) if tags else []
        else:
            infos = registry.store.list_refs(model_tags(name))
        for info in infos:
            tail = info.ref[len(prefix) :]
            if tail.isdigit():
                events.append(
                    Event(info.date, "registered", int(tail), None, None, info.who, info.peeled, info.subject)
                )
    for move in registry.stage_history(name, stages):
        events.append(_stage_event(move))
    events.sort(key=lambda e: (e.time, e.event == "stage", e.version or 0), reverse=True)
    return events if latest is None else events[:latest]


def _stage_event(move: StageMove) -> Event:
    return Event(
        move.time,
        "stage",
        move.version,
        move.stage,
        move.previous,
        move.author,
        move.commit,
        move.subject,
        pull_request_of(move.subject, move.body),
    )
