"""What may change after registration: a model's record (description, tags, notes), by commits on main."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from gitreg.errors import AlreadyExistsError, NotFoundError
from gitreg.manifest import ModelRecord, VersionNotes
from gitreg.names import check_description, check_tag_key, check_tags, check_version
from gitreg.registry import layout
from gitreg.registry.layout import MAIN, at
from gitreg.registry.reader import Reader
from gitreg.registry.writer import Plan, Writer
from gitreg.store import MODE_FILE, RefUpdate


def now_ms() -> int:
    return int(time.time() * 1000)


class Records:
    """Creates models and changes their records."""

    def __init__(self, reader: Reader, writer: Writer) -> None:
        self.read = reader
        self.writer = writer
        self.store = reader.store

    def check_unique(self, name: str, root: str | None) -> None:
        """AlreadyExistsError if ``name`` or a name differing only in case is a model at tree ``root``."""
        models = self.store.read_tree(at(root, layout.MODELS_DIR)) if root else None
        for entry in (models or {}).values():
            other = layout.record_name(entry.name) or entry.name
            if other.lower() == name.lower():
                if other == name:
                    raise AlreadyExistsError(f"Registered model {name!r} already exists.")
                raise AlreadyExistsError(
                    f"Cannot create {name!r}: model {other!r} exists and names must differ by more than case."
                )

    def new_record(self, name: str, description: str = "", tags: dict[str, str] | None = None) -> ModelRecord:
        """A fresh record. Tags left by an earlier model of this name (deleted
        since) stay history: their numbers are tombstoned, never reused."""
        old = self.read.tag_numbers(name)
        if old and not self.store.is_ancestor(f"{layout.tag_ref(name, old[-1])}^{{commit}}", MAIN):
            old = old[:-1]  # a killed first registration's tag: its number is still free
        return ModelRecord(
            name=name,
            created=now_ms(),
            next_version=(old[-1] + 1) if old else 1,
            description=description,
            tags=tags or {},
            deleted=tuple(old),
        )

    def record_plan(self, head: str, root: str | None, changes: dict[str, tuple[str, str] | None], message: str) -> str:
        """A commit on ``head`` with ``changes``: the one way a record change becomes a commit."""
        tree = self.store.edit_tree(root, changes)
        return self.store.write_commit(tree, [head], message)

    def create(self, name: str, description: str | None = None, tags: dict[str, str] | None = None) -> None:
        desc, checked = check_description(description), check_tags(tags)

        def plan() -> Plan[None]:
            head = self.store.ref(MAIN)
            assert head is not None
            root = self.store.commit_tree(head)
            self.check_unique(name, root)
            blob = self.store.write_blob(self.new_record(name, desc, checked).to_yaml().encode())
            message = f"Create registered model {name}"
            commit = self.record_plan(head, root, {layout.record_path(name): (MODE_FILE, blob)}, message)
            return Plan(None, message, [RefUpdate(MAIN, commit, head)])

        self.writer.write(plan, what=layout.MAIN_BRANCH)

    def update(self, name: str, change: Callable[[ModelRecord], ModelRecord], message: str) -> ModelRecord:
        """Apply ``change`` to the record of ``name`` on the current main, compare-and-swapped."""

        def plan() -> Plan[ModelRecord]:
            head = self.store.ref(MAIN)
            record = self.read.record_at(head, name) if head else None
            if head is None or record is None:
                raise NotFoundError(self.read.missing_model_message(name))
            new = change(record)
            blob = self.store.write_blob(new.to_yaml().encode())
            commit = self.record_plan(
                head, self.store.commit_tree(head), {layout.record_path(name): (MODE_FILE, blob)}, message
            )
            return Plan(new, message, [RefUpdate(MAIN, commit, head)])

        return self.writer.write(plan, what=layout.MAIN_BRANCH)

    def describe_model(self, name: str, description: str | None) -> None:
        desc = check_description(description)
        self.update(name, lambda r: replace(r, description=desc), f"Update description of {name}")

    def set_model_tag(self, name: str, key: str, value: str | None) -> None:
        """Set (or with ``value=None`` delete) a registered model's tag."""
        if value is None:
            check_tag_key(key)

            def drop(r: ModelRecord) -> ModelRecord:
                if key not in r.tags:
                    raise NotFoundError(f"Model {name!r} has no tag {key!r}.")
                return replace(r, tags={k: v for k, v in r.tags.items() if k != key})

            self.update(name, drop, f"Delete tag {key} of {name}")
        else:
            tags = check_tags({key: value})
            self.update(name, lambda r: replace(r, tags={**r.tags, **tags}), f"Set tag {key} of {name}")

    def update_version(
        self, name: str, version: int, description: str | None = None, tags: dict[str, str | None] | None = None
    ) -> None:
        """Change a version's description and/or tags (a tag value of None deletes it)."""
        self.read.version_ref(name, version)
        version = check_version(version)
        new_desc = None if description is None else check_description(description)
        sets = check_tags({k: v for k, v in (tags or {}).items() if v is not None})
        drops = [k for k, v in (tags or {}).items() if v is None]

        def change(r: ModelRecord) -> ModelRecord:
            notes = r.version_notes(version)
            for k in drops:
                if k not in notes.tags:
                    raise NotFoundError(f"Version {version} of {name!r} has no tag {k!r}.")
            merged = {k: v for k, v in {**notes.tags, **sets}.items() if k not in drops}
            return r.with_notes(version, VersionNotes(notes.description if new_desc is None else new_desc, merged))

        self.update(name, change, f"Update metadata of {name} version {version}")
