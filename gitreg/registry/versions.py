"""Registering versions: the commit on main and the tag that make version N, one at a time or many in one go."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from gitreg.config import MAX_PLAIN_BLOB
from gitreg.errors import IntegrityError, NotFoundError
from gitreg.manifest import MANIFEST_FILE, Artifact, Manifest, ModelRecord, Provenance, VersionNotes
from gitreg.names import check_description, check_model_name, check_tags
from gitreg.registry import layout
from gitreg.registry.layout import MAIN
from gitreg.registry.reader import Reader
from gitreg.registry.records import Records, now_ms
from gitreg.registry.views import NewVersion, Package, VersionRef
from gitreg.registry.writer import Plan, Writer
from gitreg.store import MODE_EXEC, MODE_FILE, MODE_TREE, RefConflict, RefUpdate, lfs, reflog, worktree
from gitreg.store.locks import stale_after

Stored = list[tuple[Artifact, str, str]]  # (artifact, mode, blob id) per file of a package
# who registers, the training repository, and when (ms): fixed for the call, so a plan made again
# for the same version number makes the same manifest and subtree objects, already written
Origin = tuple[str, worktree.WorkTreeInfo | None, int]


@dataclass(frozen=True)
class VersionCommit:
    """The objects that make one version: the tree changes on main, the message and the tag to create."""

    changes: dict[str, tuple[str, str] | None]
    message: str
    ref: VersionRef
    record: ModelRecord
    leftover: str | None


class Versions:
    """Adds versions to models."""

    def __init__(self, reader: Reader, writer: Writer, records: Records) -> None:
        self.read = reader
        self.writer = writer
        self.records = records
        self.store = reader.store

    def origin(self, provenance_dir: Path | None) -> Origin:
        info = worktree.describe(provenance_dir or Path.cwd(), exclude=self.store.git_dir)
        return str(self.store.identity()), info, now_ms()

    def store_files(self, package: Package) -> Stored:
        """Write a package's files as objects: Git LFS at or above the registry's threshold,
        and always from :data:`~gitreg.config.MAX_PLAIN_BLOB` (100 MB) up, since git
        hosts refuse plain blobs that large. :class:`~gitreg.store.lfs.LFSMissingError`
        (naming the fix) when such a file needs LFS and git-lfs is not installed."""
        out = []
        threshold = self.read.config().lfs_threshold
        for rel in package.files:
            path = package.root / rel
            bytes_ = path.stat().st_size
            if bytes_ >= MAX_PLAIN_BLOB:
                lfs.require_installed(
                    f"{rel} is {bytes_:,} bytes; git hosts refuse plain blobs of 100 MB or more, so it must be "
                    "stored with Git LFS"
                )
            large = bytes_ >= MAX_PLAIN_BLOB or (threshold is not None and bytes_ >= threshold)
            oid, sha, size = self.store.write_lfs_file(path) if large else self.store.write_file(path)
            mode = MODE_EXEC if os.access(path, os.X_OK) else MODE_FILE
            out.append((Artifact(rel, sha, size), mode, oid))
        return out

    def register(
        self,
        name: str,
        package: Package,
        *,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        create: bool = True,
        provenance_dir: Path | None = None,
    ) -> VersionRef:
        """Add ``package`` as the next version of ``name`` (creating the model if ``create``)."""
        check_model_name(name)
        desc, checked = check_description(description), check_tags(tags)
        stored, origin = self.store_files(package), self.origin(provenance_dir)
        batch = [(name, package, stored, desc, checked)]
        return self.writer.write(lambda: self._plan(batch, origin, create), what=layout.MAIN_BRANCH)[0]

    def register_many(self, versions: Iterable[NewVersion], *, provenance_dir: Path | None = None) -> list[VersionRef]:
        """Register many versions, of one model or several, in one write.

        Each version is the same commit and tag :meth:`register` would make,
        chained on ``main`` in the given order; every tag is prepared in one
        transaction and ``main`` then moves once, so a long import costs a few
        git processes instead of some per version, and a failure leaves no
        version behind. Missing models are created."""
        items = list(versions)
        for item in items:
            check_model_name(item.name)
        stored: dict[int, Stored] = {}
        for item in items:
            if id(item.package) not in stored:
                stored[id(item.package)] = self.store_files(item.package)
        batch = [
            (i.name, i.package, stored[id(i.package)], check_description(i.description), check_tags(i.tags))
            for i in items
        ]
        if not batch:
            return []
        origin = self.origin(provenance_dir)

        def plan() -> Plan[list[VersionRef]]:
            with self.store.packing():  # the plan's objects go in one pack, written before it is published
                return self._plan(batch, origin, True)

        return self.writer.write(plan, what=layout.MAIN_BRANCH)

    def _plan(
        self,
        batch: list[tuple[str, Package, Stored, str, dict[str, str]]],
        origin: Origin,
        create: bool,
    ) -> Plan[list[VersionRef]]:
        head = self.store.ref(MAIN)
        assert head is not None
        parent, root = head, self.store.commit_tree(head)
        records: dict[str, ModelRecord] = {}
        refs: list[VersionRef] = []
        tags: list[RefUpdate] = []
        for name, package, stored, desc, tag_values in batch:
            record = records.get(name) or self._record_for_new_version(name, head, root, create)
            first = name not in records
            made = self._version_commit(
                name, record, package, stored, origin, desc, tag_values, head if first else None
            )
            root = self.store.edit_tree(root, made.changes)
            parent = self.store.write_commit(root, [parent], made.message)
            tag = self.store.write_tag(parent, made.ref.tag, made.message)
            tags.append(RefUpdate(layout.tag_ref(name, made.ref.version), tag, made.leftover))
            refs.append(replace(made.ref, commit=parent))
            records[name] = made.record
        subject = made.message.splitlines()[0] if len(refs) == 1 else f"Register {len(refs)} versions"
        done = "the version is registered" if len(refs) == 1 else "the versions are registered"
        return Plan(refs, subject, [RefUpdate(MAIN, parent, head)], prepare=tags, done=done)

    def _record_for_new_version(self, name: str, head: str, root: str | None, create: bool) -> ModelRecord:
        record = self.read.record_at(head, name)
        if record is None:
            if not create:
                raise NotFoundError(self.read.missing_model_message(name))
            self.records.check_unique(name, root)
            record = self.records.new_record(name)
        return record

    def _version_commit(
        self,
        name: str,
        record: ModelRecord,
        package: Package,
        stored: Stored,
        origin: Origin,
        desc: str,
        tags: dict[str, str],
        head: str | None,
    ) -> VersionCommit:
        """The tree changes, message and tag that make the record's next version of ``name``.
        ``head`` (the main commit planned on) is given for the first version of a model in a write,
        whose number may carry a leftover tag; later ones in the same write cannot."""
        version = record.next_version
        leftover = self._leftover_tag(name, version, head) if head else None
        author, info, created = origin
        if package.registered is not None:  # an import keeps the other registry's author and time
            author, created = package.registered
        manifest = Manifest(
            name=name,
            version=version,
            flavor=package.flavor,
            artifacts=tuple(a for a, _, _ in stored),
            provenance=Provenance(
                author=author,
                created=created,
                source=package.source,
                run_id=package.run_id,
                git_commit=info.commit if info else None,
                git_remote=info.remote if info else None,
                git_dirty=info.dirty if info else None,
            ),
            signature=package.signature,
            input_example=package.input_example,
            metrics=package.metrics,
            params=package.params,
        )
        entries: dict[str, tuple[str, str] | None] = {a.path: (mode, oid) for a, mode, oid in stored}
        entries[MANIFEST_FILE] = (MODE_FILE, self.store.write_blob(manifest.to_yaml().encode()))
        subtree = self.store.edit_tree(None, entries)
        record = replace(record, next_version=version + 1, registered={**record.registered, version: subtree})
        if desc or tags:
            record = record.with_notes(version, VersionNotes(desc, tags))
        message = f"Register {name} version {version}\n\n" + summary(manifest)
        changes: dict[str, tuple[str, str] | None] = {
            layout.version_dir(name): (MODE_TREE, subtree),
            layout.record_path(name): (MODE_FILE, self.store.write_blob(record.to_yaml().encode())),
        }
        ref = VersionRef(name, version, layout.tag_name(name, version), "", subtree, manifest)
        return VersionCommit(changes, message, ref, record, leftover)

    def _leftover_tag(self, name: str, version: int, head: str) -> str | None:
        """The tag object already at ``name/v<version>`` (not a version: ``version`` is the
        record's next one), or None if there is none.

        Such a tag is another writer's registration in flight (left alone:
        :class:`RefConflict`, plan again), one killed between creating the tag
        and moving ``main`` (replaced once older than the stale-lock age), or
        the sign that ``main`` lost a registration it had made (refused: the
        number would name two contents)."""
        tag = layout.tag_ref(name, version)
        got = self.store.read(tag)
        if got is None:
            return None
        tagged = re.search(rb"^tagger .* (\d+) [+-]\d{4}$", got[2], re.M) if got[1] == "tag" else None
        if tagged and time.time() - int(tagged.group(1)) < max(stale_after(), 1.0):
            raise RefConflict(f"{name} version {version} is being registered by another writer.")
        target = self.store.read(f"{tag}^{{commit}}")
        commit = target[0] if target else f"{tag}^{{commit}}"
        if self.store.is_ancestor(commit, head) or reflog.was_reachable(self.store, MAIN, commit):
            newest = layout.tag_name(name, self.read.tag_numbers(name)[-1])
            raise IntegrityError(
                f"Version {version} of {name!r} was registered on main (tag {layout.tag_name(name, version)}), but "
                f"main's {layout.record_path(name)} no longer counts it: main was reset, rebased or rolled back "
                f"by a commit from a stale checkout. Registering now would give version {version} a second "
                f"content. Restore the model on main ('git checkout {newest} -- {layout.record_path(name)} "
                f"{layout.version_dir(name)}' and commit, or undo the reset), run 'gitreg check', and try again."
            )
        if self.store.is_ancestor(commit, MAIN):
            raise RefConflict(f"{name} version {version} was registered meanwhile; planning again.")
        return got[0]


def summary(manifest: Manifest) -> str:
    """The body of a registration's commit and tag message."""
    lines = [f"flavor: {manifest.flavor}"]
    if manifest.provenance.run_id:
        lines.append(f"run_id: {manifest.provenance.run_id}")
    for k, v in sorted(manifest.metrics.items()):
        lines.append(f"metric {k}: {v:g}")
    return "\n".join(lines) + "\n"
