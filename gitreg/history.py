"""A model's history: registrations (from its own tags) and stage moves
(from each stage branch's log), merged newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitreg.registry import Registry


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

    def describe(self) -> str:
        if self.event == "registered":
            return f"version {self.version} registered"
        if self.version is None:
            return f"{self.stage}: version {self.previous} removed"
        was = f"version {self.previous}" if self.previous else "(none)"
        return f"{self.stage}: {was} -> version {self.version}"

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
        }


def model_history(registry: Registry, name: str, stages: list[str] | None = None) -> list[Event]:
    registry.record(name)
    events = []
    if not stages:
        prefix = f"refs/tags/{name}/v"
        for info in registry.store.list_refs(f"refs/tags/{name}/"):
            tail = info.ref[len(prefix) :]
            if tail.isdigit():
                events.append(
                    Event(info.date, "registered", int(tail), None, None, info.who, info.peeled, info.subject)
                )
    for move in registry.stage_history(name, stages):
        events.append(
            Event(move.time, "stage", move.version, move.stage, move.previous, move.author, move.commit, move.subject)
        )
    return sorted(events, key=lambda e: (e.time, e.event == "stage", e.version or 0), reverse=True)
