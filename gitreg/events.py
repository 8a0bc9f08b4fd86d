"""Registry events: what changed between two states of a registry, as typed events.

A :class:`State` is where ``main`` and every stage branch point. The events
between two states are derived from trees alone: the records on ``main``
(models created and deleted, versions registered and deleted, descriptions and
tags of models and versions) and each stage branch's ``models/<name>/``
(versions moving in and out of stages and aliases). Nothing is kept besides
git: a state is read from the refs now (:func:`current_state`), from the
branches' first-parent history at an instant (:func:`state_at`), or from a
delivery ledger (:mod:`gitreg.notify`).

Event names are MLflow 3's webhook events where MLflow has one
(``registered_model.created``, ``model_version.created``,
``model_version_tag.set`` / ``.deleted``, ``model_version_alias.created`` /
``.deleted``), with the same payload keys; the rest follow the same
``<entity>.<action>`` form (``model_version.transitioned_stage`` is the
Databricks registry's ``MODEL_VERSION_TRANSITIONED_STAGE``). Fixed stages
(Staging, Production, Archived) are transitions, any other stage an alias.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gitreg.errors import InvalidInputError
from gitreg.manifest import MANIFEST_FILE, Manifest, ModelRecord
from gitreg.names import display_stage, is_fixed_stage
from gitreg.registry import layout
from gitreg.registry.layout import MAIN, at
from gitreg.registry.reader import Reader
from gitreg.store import GitStore, timeline


class EventKind(StrEnum):
    """Every kind of registry event, named ``<entity>.<action>``."""

    REGISTERED_MODEL_CREATED = "registered_model.created"
    REGISTERED_MODEL_DELETED = "registered_model.deleted"
    REGISTERED_MODEL_DESCRIPTION_CHANGED = "registered_model.description_changed"
    REGISTERED_MODEL_TAG_SET = "registered_model_tag.set"
    REGISTERED_MODEL_TAG_DELETED = "registered_model_tag.deleted"
    MODEL_VERSION_CREATED = "model_version.created"
    MODEL_VERSION_DELETED = "model_version.deleted"
    MODEL_VERSION_DESCRIPTION_CHANGED = "model_version.description_changed"
    MODEL_VERSION_TAG_SET = "model_version_tag.set"
    MODEL_VERSION_TAG_DELETED = "model_version_tag.deleted"
    MODEL_VERSION_TRANSITIONED_STAGE = "model_version.transitioned_stage"
    MODEL_VERSION_ALIAS_CREATED = "model_version_alias.created"
    MODEL_VERSION_ALIAS_DELETED = "model_version_alias.deleted"

    @property
    def entity(self) -> str:
        return self.value.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.value.split(".", 1)[1]


@dataclass(frozen=True)
class State:
    """Where ``main`` and each stage branch point (commit ids; None: no main yet)."""

    main: str | None
    stages: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"main": self.main, "stages": dict(sorted(self.stages.items()))}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> State:
        if not isinstance(data, dict) or not isinstance(data.get("stages", {}), dict):
            raise InvalidInputError(f"{where}: not a registry state.")
        main = data.get("main")
        return cls(main if isinstance(main, str) else None, {str(k): str(v) for k, v in data["stages"].items()})

    @property
    def id(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


EMPTY = State(None, {})


@dataclass(frozen=True)
class Event:
    """One change. ``data`` is the MLflow-shaped payload (versions as strings, as MLflow sends them);
    ``commit`` the commit of ``main`` or the stage branch in the newer state that carries it."""

    kind: EventKind
    data: dict[str, Any]
    commit: str | None
    id: str = ""

    def describe(self) -> str:
        d = self.data
        what = d.get("name", "")
        if "version" in d:
            what += f" v{d['version']}"
        extra = {k: v for k, v in d.items() if k in ("stage", "alias", "key", "previous_version", "value")}
        return f"{self.kind.value} {what}" + "".join(f" {k}={v}" for k, v in extra.items())

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.kind.value, "data": self.data, "commit": self.commit}


def current_state(store: GitStore) -> State:
    stages = {}
    for ref, oid in store.ref_oids(layout.STAGE_PREFIX).items():
        stage = layout.stage_of(ref)
        if stage:
            stages[stage] = oid
    return State(store.ref(MAIN), stages)


def state_at(store: GitStore, when: int) -> State:
    """The registry at ``when`` (seconds): each branch's first-parent commit at or before it."""
    now = current_state(store)
    stages = {}
    for stage in now.stages:
        commit = timeline.first_parent_at(store, layout.stage_ref(stage), when)
        if commit:
            stages[stage] = commit
    return State(timeline.first_parent_at(store, MAIN, when), stages)


def events_between(reader: Reader, old: State, new: State) -> list[Event]:
    """Every event that takes the registry from ``old`` to ``new``, in a stable order:
    per model (sorted), its record's events, then per stage (sorted) its moves."""
    out: list[Event] = []
    old_records, new_records = _records(reader, old.main), _records(reader, new.main)
    for name in sorted({*old_records, *new_records}):
        out += _record_events(reader, name, old_records.get(name), new_records.get(name), new.main)
    for stage in sorted({*old.stages, *new.stages}):
        out += _stage_events(reader, stage, old.stages.get(stage), new.stages.get(stage))
    base = f"{old.id}:{new.id}"
    return [
        Event(e.kind, e.data, e.commit, hashlib.sha256(f"{base}:{i}:{e.kind}".encode()).hexdigest()[:32])
        for i, e in enumerate(out)
    ]


def _records(reader: Reader, main: str | None) -> dict[str, ModelRecord]:
    if main is None:
        return {}
    found = {}
    for entry in (reader.store.read_tree(at(main, layout.MODELS_DIR)) or {}).values():
        name = None if entry.is_tree else layout.record_name(entry.name)
        if name is None:
            continue
        try:
            record = reader.record_at(main, name)
        except InvalidInputError:
            continue  # gitreg check reports it
        if record is not None:
            found[name] = record
    return found


def _manifest_of(reader: Reader, name: str, version: int) -> Manifest | None:
    tag = layout.tag_ref(name, version)
    try:
        return reader.parsed(at(tag, layout.manifest_path(name)), Manifest, at(tag, MANIFEST_FILE))
    except InvalidInputError:
        return None


def _tag_events(
    kind_set: EventKind, kind_deleted: EventKind, base: dict[str, Any], old: dict, new: dict, commit: str | None
) -> list[Event]:
    out = []
    for key in sorted({*old, *new}):
        if key not in new:
            out.append(Event(kind_deleted, {**base, "key": key}, commit))
        elif old.get(key) != new[key]:
            out.append(Event(kind_set, {**base, "key": key, "value": new[key]}, commit))
    return out


def _record_events(
    reader: Reader, name: str, old: ModelRecord | None, new: ModelRecord | None, commit: str | None
) -> list[Event]:
    K = EventKind
    if new is None:
        return [Event(K.REGISTERED_MODEL_DELETED, {"name": name}, commit)] if old is not None else []
    out = []
    if old is None:
        out.append(
            Event(
                K.REGISTERED_MODEL_CREATED,
                {"name": name, "tags": dict(new.tags), "description": new.description or None},
                commit,
            )
        )
    else:
        if old.description != new.description:
            out.append(
                Event(K.REGISTERED_MODEL_DESCRIPTION_CHANGED, {"name": name, "description": new.description}, commit)
            )
        out += _tag_events(
            K.REGISTERED_MODEL_TAG_SET, K.REGISTERED_MODEL_TAG_DELETED, {"name": name}, old.tags, new.tags, commit
        )
    first_new = old.next_version if old is not None else 1
    for version in range(first_new, new.next_version):
        if version in new.deleted:
            continue
        manifest = _manifest_of(reader, name, version)
        notes = new.version_notes(version)
        provenance = manifest.provenance if manifest else None
        data = {
            "name": name,
            "version": str(version),
            "source": provenance.source if provenance else None,
            "run_id": provenance.run_id if provenance else None,
            "tags": dict(notes.tags),
            "description": notes.description or None,
        }
        out.append(Event(K.MODEL_VERSION_CREATED, data, commit))
    if old is not None:
        for version in sorted(set(new.deleted) - set(old.deleted)):
            if version < old.next_version:
                out.append(Event(K.MODEL_VERSION_DELETED, {"name": name, "version": str(version)}, commit))
        for version in sorted({*old.notes, *new.notes}):
            if version >= old.next_version or version in new.deleted:
                continue  # a new version's notes are in its created event; a deleted one has none
            before, after = old.version_notes(version), new.version_notes(version)
            base = {"name": name, "version": str(version)}
            if before.description != after.description:
                out.append(
                    Event(K.MODEL_VERSION_DESCRIPTION_CHANGED, {**base, "description": after.description}, commit)
                )
            out += _tag_events(
                K.MODEL_VERSION_TAG_SET, K.MODEL_VERSION_TAG_DELETED, base, before.tags, after.tags, commit
            )
    return out


def _stage_events(reader: Reader, stage: str, old: str | None, new: str | None) -> list[Event]:
    store = reader.store
    before = (store.read_tree(at(old, layout.MODELS_DIR)) or {}) if old else {}
    after = (store.read_tree(at(new, layout.MODELS_DIR)) or {}) if new else {}
    shown = display_stage(stage)
    out = []
    for name in sorted({*before, *after}):
        a, b = before.get(name), after.get(name)
        if (a is not None and not a.is_tree) or (b is not None and not b.is_tree) or (a and b and a.oid == b.oid):
            continue
        was = reader.version_at(old, name) if old and a else None
        now = reader.version_at(new, name) if new and b else None
        if was == now:
            continue
        if is_fixed_stage(stage):
            if now is not None:
                data: dict[str, Any] = {"name": name, "version": str(now), "stage": shown}
                data["previous_version"] = str(was) if was is not None else None
            else:
                data = {"name": name, "version": str(was), "stage": "None", "previous_stage": shown}
            out.append(Event(EventKind.MODEL_VERSION_TRANSITIONED_STAGE, data, new))
        elif now is not None:
            out.append(
                Event(EventKind.MODEL_VERSION_ALIAS_CREATED, {"name": name, "alias": stage, "version": str(now)}, new)
            )
        else:
            out.append(Event(EventKind.MODEL_VERSION_ALIAS_DELETED, {"name": name, "alias": stage}, new))
    return out
