"""Deleting versions and models, and renaming a model: main is the commit point, the stages follow.

A delete tombstones on main first (after which nothing resolves the version:
readers ignore stage entries of versions that are not live), then takes the
version out of its stages. A rename prepares the new name's tags and stage
entries (invisible while the new name has no record), moves main, then drops
the old name's stage entries. A crash between any two steps leaves a valid
registry; ``gitreg check`` lists the leftover stage entries.
"""

from __future__ import annotations

from dataclasses import replace

from gitreg.errors import AlreadyExistsError, NotFoundError
from gitreg.manifest import MANIFEST_FILE, VersionNotes
from gitreg.names import check_model_name, check_version, display_stage
from gitreg.registry import layout
from gitreg.registry.layout import MAIN, at
from gitreg.registry.promotion import prune_plan, stage_updates
from gitreg.registry.reader import Reader, is_live
from gitreg.registry.records import Records
from gitreg.registry.versions import summary
from gitreg.registry.writer import Plan, Writer
from gitreg.store import MODE_FILE, MODE_TREE, RefUpdate


class Deletion:
    """Removes versions and models, and renames models."""

    def __init__(self, reader: Reader, writer: Writer, records: Records) -> None:
        self.read = reader
        self.writer = writer
        self.records = records
        self.store = reader.store

    def _head_record(self, name: str) -> tuple[str, str]:
        head = self.store.ref(MAIN)
        if head is None or self.read.record_at(head, name) is None:
            raise NotFoundError(self.read.missing_model_message(name))
        return head, self.store.commit_tree(head)

    def delete_version(self, name: str, version: int) -> None:
        """Tombstone a version: it no longer resolves and leaves every stage.
        Its tag stays as history and its number is never reused."""
        self.read.version_ref(name, version)
        version = check_version(version)
        subject = f"Delete {name} version {version}"

        def plan() -> Plan[None]:
            head, root = self._head_record(name)
            record = self.read.record_at(head, name)
            assert record is not None
            if not is_live(record, version):
                raise NotFoundError(f"Version {version} of model {name!r} was deleted meanwhile.")
            record = replace(record, deleted=tuple(sorted({*record.deleted, version}))).with_notes(
                version, VersionNotes()
            )
            changes: dict[str, tuple[str, str] | None] = {
                layout.record_path(name): (MODE_FILE, self.store.write_blob(record.to_yaml().encode()))
            }
            if self.read.version_at(head, name) == version:
                alive = self.read.version_numbers(name, record)
                tree = (
                    self.store.tree_oid(at(layout.tag_ref(name, alive[-1]), layout.version_dir(name)))
                    if alive
                    else None
                )
                changes[layout.version_dir(name)] = (MODE_TREE, tree) if tree else None
            commit = self.store.write_commit(self.store.edit_tree(root, changes), [head], subject)
            return Plan(
                None, subject, [RefUpdate(MAIN, commit, head)], then=lambda: prune_plan(self.read, name, subject)
            )

        self.writer.write(plan, what=layout.MAIN_BRANCH)

    def delete_model(self, name: str) -> None:
        """Remove a registered model from main and every stage. Its tags stay
        as history, so a model created later under this name continues the numbering."""
        self.read.record(name)
        subject = f"Delete registered model {name}"

        def plan() -> Plan[None]:
            head, root = self._head_record(name)
            changes: dict[str, tuple[str, str] | None] = {
                layout.version_dir(name): None,
                layout.record_path(name): None,
            }
            commit = self.store.write_commit(self.store.edit_tree(root, changes), [head], subject)
            return Plan(
                None, subject, [RefUpdate(MAIN, commit, head)], then=lambda: prune_plan(self.read, name, subject)
            )

        self.writer.write(plan, what=layout.MAIN_BRANCH)

    def rename_model(self, name: str, new_name: str) -> None:
        """Rename a model. Versions are immutable, so each is registered again
        under the new name (same artifacts, new tags ``<new>/vN``) and stages
        follow; the old tags remain as history."""
        self.read.record(name)
        check_model_name(new_name)
        used = self.read.tag_numbers(new_name)
        if used:
            raise AlreadyExistsError(
                f"Cannot rename {name!r} to {new_name!r}: a model of that name existed before and its versions "
                f"({', '.join(map(str, used[:5]))}{'…' if len(used) > 5 else ''}) remain as history, so the renamed "
                "versions' numbers would be taken. Choose another name."
            )
        subject = f"Rename registered model {name} to {new_name}"

        def plan() -> Plan[None]:
            head, root = self._head_record(name)
            record = self.read.record_at(head, name)
            assert record is not None
            self.records.check_unique(new_name, root)
            held = self.read.stages_of(name, record=record)
            new_trees: dict[int, str] = {}
            prepare: list[RefUpdate] = []
            parent = head
            for v in self.read.version_numbers(name, record):
                old = self.read.version_ref(name, v, record=record)
                manifest = replace(old.manifest, name=new_name)
                blob = self.store.write_blob(manifest.to_yaml().encode())
                new_trees[v] = self.store.edit_tree(old.tree, {MANIFEST_FILE: (MODE_FILE, blob)})
                root = self.store.edit_tree(
                    root, {layout.version_dir(name): None, layout.version_dir(new_name): (MODE_TREE, new_trees[v])}
                )
                message = f"Register {new_name} version {v} (renamed from {name})\n\n" + summary(manifest)
                parent = self.store.write_commit(root, [parent], message)
                tag = self.store.write_tag(parent, layout.tag_name(new_name, v), message)
                prepare.append(RefUpdate(layout.tag_ref(new_name, v), tag, None))
            latest = self.read.version_at(head, name)
            moved = replace(record, name=new_name, notes=dict(record.notes), registered=dict(new_trees))
            changes: dict[str, tuple[str, str] | None] = {
                layout.version_dir(name): None,
                layout.record_path(name): None,
                layout.record_path(new_name): (MODE_FILE, self.store.write_blob(moved.to_yaml().encode())),
            }
            if latest in new_trees:
                changes[layout.version_dir(new_name)] = (MODE_TREE, new_trees[latest])
            final = self.store.write_commit(self.store.edit_tree(root, changes), [parent], subject)
            for stage, v in held.items():
                prepare += stage_updates(
                    self.read, new_name, {stage: new_trees[v]}, f"Rename {name} to {new_name} in {display_stage(stage)}"
                )
            return Plan(
                None,
                subject,
                [RefUpdate(MAIN, final, head)],
                prepare=prepare,
                then=lambda: prune_plan(self.read, name, f"Remove {name} (renamed {new_name}) from its stages"),
                done=f"{name} is renamed {new_name}",
            )

        self.writer.write(plan, what=layout.MAIN_BRANCH)
