"""Registered models, versions and stages on a git store: the domain.

Layout on the registry branch ``main`` (see the design brief)::

    registry.yaml          format version and known stages
    models/<name>.yaml     mutable metadata (ModelRecord)
    models/<name>/         the latest version: gitreg.yaml + artifacts

A version is a commit on ``main`` plus the annotated tag ``<name>/v<N>``; a
stage is the branch ``stages/<stage>`` whose ``models/<name>/`` subtree equals
the subtree of the tag it names. Every question about one model is answered
by reading a handful of refs and trees: nothing here scans all tags.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from gitreg import yamlio
from gitreg.entities import ModelVersion, RegisteredModel
from gitreg.errors import (
    AlreadyExistsError,
    ConflictError,
    GitregError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
)
from gitreg.manifest import MANIFEST_FILE, Artifact, Manifest, ModelRecord, Provenance, VersionNotes
from gitreg.names import (
    FIXED_STAGES,
    check_description,
    check_model_name,
    check_stage_name,
    check_tag_key,
    check_tags,
    check_version,
    display_stage,
    is_fixed_stage,
)
from gitreg.signature import Signature
from gitreg.store import MODE_EXEC, MODE_FILE, MODE_TREE, GitStore, RefConflict, RefUpdate, worktree
from gitreg.store.locks import stale_after
from gitreg.uri import ModelURI

if TYPE_CHECKING:
    from gitreg.proposal import Proposal

MAIN = "refs/heads/main"
STAGE_PREFIX = "refs/heads/stages/"
CONFIG_FILE = "registry.yaml"
DEFAULT_STAGES = ("staging", "production", "archived")
_RETRIES = 200
_PARSE_CACHE = 20_000  # parsed manifests and records kept per Registry (a few KB each)
_Parsed = TypeVar("_Parsed", Manifest, ModelRecord)


def tag_ref(name: str, version: int) -> str:
    return f"refs/tags/{name}/v{version}"


def stage_ref(stage: str) -> str:
    return STAGE_PREFIX + stage


def _now_ms() -> int:
    return int(time.time() * 1000)


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
    via: str  # "version", "latest" or the stage/alias it was resolved through

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


@dataclass
class _Plan:
    """One write: tree changes on a branch, plus refs (version tags) to create
    for the new commit. The tags are created first and the branch then moves
    in a transaction that verifies them: git's files backend renames ref lock
    files one at a time, so a process killed inside a multi-ref transaction
    could move ``main`` without its tag. In this order a kill leaves at worst
    a tag numbered at or past the model's ``next_version``, which is not a
    version (readers ignore it) and which the next registration replaces."""

    changes: dict[str, tuple[str, str] | None]
    message: str
    refs: Callable[[str], list[RefUpdate]] = field(default=lambda commit: [])
    result: object = None
    record: ModelRecord | None = None  # a registration's updated record


class Registry:
    """A gitreg registry: one git repository."""

    def __init__(self, store: GitStore) -> None:
        self.store = store
        self.warnings: list[str] = []
        self._parse_cache: dict[tuple[type, str], Manifest | ModelRecord] = {}

    def __repr__(self) -> str:
        return f"Registry({str(self.store.work_tree or self.store.git_dir)!r})"

    @property
    def path(self) -> Path:
        return self.store.work_tree or self.store.git_dir

    # -- creating and opening ------------------------------------------------

    @classmethod
    def init(cls, path: str | os.PathLike[str], *, bare: bool = False) -> Registry:
        """Create a registry at ``path`` (a new or empty directory)."""
        p = Path(path).expanduser().absolute()
        if p.exists() and GitStore.find_git_dir(p) is not None:
            store = GitStore.open(p)
            if store.read_blob(f"{MAIN}:{CONFIG_FILE}") is not None:
                raise AlreadyExistsError(f"{p} is already a gitreg registry.")
            raise AlreadyExistsError(f"{p} is already a git repository; give 'gitreg init' a new directory.")
        if p.exists() and (not p.is_dir() or any(p.iterdir())):
            raise AlreadyExistsError(f"{p} exists and is not an empty directory; give 'gitreg init' a new path.")
        store = GitStore.init(p, bare=bare)
        config = yamlio.dump({"format": 1, "stages": list(DEFAULT_STAGES), "policy": {}})
        readme = (
            "# gitreg model registry\n\nThis repository is a gitreg model registry. Versions are tags "
            "`<model>/v<N>`, stages are branches `stages/<stage>`.\nUse `gitreg models` to list models.\n"
        )
        tree = store.edit_tree(
            None,
            {
                CONFIG_FILE: (MODE_FILE, store.write_blob(config.encode())),
                "README.md": (MODE_FILE, store.write_blob(readme.encode())),
            },
        )
        commit = store.write_commit(tree, [], "Initialise gitreg registry")
        store.update_refs([RefUpdate(MAIN, commit, None)], "gitreg init")
        if store.work_tree is not None:
            store.git("read-tree", "-u", "--reset", commit)
            worktree.mark_synced(store, commit)
        return cls(store)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Registry:
        p = Path(path).expanduser()
        if not p.exists():
            raise NotFoundError(f"Registry {str(p)!r} does not exist. Create it with 'gitreg init {p}'.")
        store = GitStore.open(p)
        registry = cls(store)
        registry._check_is_registry()
        return registry

    def _check_is_registry(self) -> None:
        if self.store.read(f"{MAIN}:{CONFIG_FILE}") is None:
            raise NotFoundError(
                f"{self.path} is a git repository but not a gitreg registry (no {CONFIG_FILE} on main). "
                f"Create a registry with 'gitreg init PATH'."
            )

    def close(self) -> None:
        self.store.close()

    # -- reading -------------------------------------------------------------

    def model_names(self) -> list[str]:
        tree = self.store.read_tree(f"{MAIN}:models") or {}
        return sorted((e.name[:-5] for e in tree.values() if e.name.endswith(".yaml") and not e.is_tree), key=str.lower)

    def _parsed(self, spec: str, kind: type[_Parsed], where: str) -> _Parsed | None:
        """The blob at ``spec`` parsed as a Manifest or ModelRecord, or None if
        there is no blob. Blobs are content-addressed, so a parse is kept by
        blob id and reused: a warm process parses each manifest once."""
        got = self.store.read(spec)
        if got is None or got[1] != "blob":
            return None
        key = (kind, got[0])
        value = self._parse_cache.get(key)
        if value is None:
            value = kind.from_yaml(got[2], where)
            if len(self._parse_cache) >= _PARSE_CACHE:
                self._parse_cache.clear()
            self._parse_cache[key] = value
        assert isinstance(value, kind)
        return value

    def _record_at(self, rev: str, name: str) -> ModelRecord | None:
        return self._parsed(f"{rev}:models/{name}.yaml", ModelRecord, f"models/{name}.yaml")

    def trusted_types(self) -> tuple[str, ...]:
        """``trusted_types`` from ``registry.yaml`` on main: the types a
        skops-format model may construct beyond skops' safe defaults. Whoever
        can change main's configuration decides what loaders trust."""
        raw = self.store.read_blob(f"{MAIN}:{CONFIG_FILE}")
        config = yamlio.load_mapping(raw or b"{}", CONFIG_FILE)
        types = config.get("trusted_types") or []
        if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
            raise InvalidInputError(f"{CONFIG_FILE}: trusted_types must be a list of fully qualified type names.")
        return tuple(types)

    def record(self, name: str) -> ModelRecord:
        check_model_name(name)
        rec = self._record_at(MAIN, name)
        if rec is None:
            raise NotFoundError(self._missing_model_message(name))
        return rec

    def _missing_model_message(self, name: str) -> str:
        near = [n for n in self.model_names() if n.lower() == name.lower()]
        hint = f" Did you mean {near[0]!r}?" if near else " List models with 'gitreg models'."
        return f"Registered model {name!r} does not exist.{hint}"

    def _manifest(self, spec: str, where: str) -> Manifest:
        manifest = self._parsed(spec, Manifest, where)
        if manifest is None:
            raise IntegrityError(f"{where}: {MANIFEST_FILE} is missing.")
        return manifest

    def version_ref(
        self,
        name: str,
        version: int,
        *,
        record: ModelRecord | None = None,
        known: tuple[str, Manifest] | None = None,
    ) -> VersionRef:
        """The tag of ``name`` version ``version``; NotFoundError if absent or deleted.

        ``record`` (the model's record on main) and ``known`` (a subtree and its
        parsed manifest the caller already holds) only save reading them again.
        """
        check_model_name(name)
        version = check_version(version)
        tag = tag_ref(name, version)
        got = self.store.read(f"{tag}^{{commit}}")
        if record is None:
            record = self._record_at(MAIN, name)
        if got is None or record is None or version in record.deleted or version >= record.next_version:
            if record is None:
                raise NotFoundError(self._missing_model_message(name))
            state = "was deleted" if version in record.deleted else "does not exist"
            raise NotFoundError(
                f"Version {version} of model {name!r} {state}. List versions with 'gitreg versions {name}'."
            )
        tree = self.store.tree_oid(f"{tag}:models/{name}")
        if tree is None:
            raise IntegrityError(f"Tag {tag[10:]} does not contain models/{name}/.")
        if known is not None and known[0] == tree:
            manifest = known[1]
        else:
            manifest = self._manifest(f"{tree}:{MANIFEST_FILE}", f"{tag[10:]}:models/{name}/{MANIFEST_FILE}")
        if manifest.name != name or manifest.version != version:
            raise IntegrityError(
                f"Tag {tag[10:]} holds a manifest for {manifest.name!r} version {manifest.version}, "
                f"not {name!r} version {version}."
            )
        return VersionRef(name, version, tag[10:], got[0], tree, manifest)

    def latest_ref(self, name: str) -> VersionRef:
        check_model_name(name)
        tree = self.store.tree_oid(f"{MAIN}:models/{name}")
        if tree is None:
            self.record(name)
            raise NotFoundError(
                f"Model {name!r} has no versions yet. Register one with 'gitreg register {name} SOURCE'."
            )
        return self._latest_at(name, tree)

    def _latest_at(self, name: str, tree: str, record: ModelRecord | None = None) -> VersionRef:
        """The version whose subtree ``tree`` is ``models/<name>/`` on main, checked against its tag."""
        manifest = self._manifest(f"{tree}:{MANIFEST_FILE}", f"main:models/{name}/{MANIFEST_FILE}")
        ref = self.version_ref(name, manifest.version, record=record, known=(tree, manifest))
        if ref.tree != tree:
            raise IntegrityError(
                f"main:models/{name}/ says version {manifest.version} but differs from tag {ref.tag}; "
                "run 'gitreg check'."
            )
        return ref

    def stage_ref_version(self, name: str, stage: str) -> VersionRef | None:
        """The version ``stage`` holds for ``name``, verified against its tag."""
        check_model_name(name)
        stage = check_stage_name(stage)
        tree = self.store.tree_oid(f"{stage_ref(stage)}:models/{name}")
        if tree is None:
            return None
        where = f"stages/{stage}:models/{name}/{MANIFEST_FILE}"
        manifest = self._manifest(f"{tree}:{MANIFEST_FILE}", where)
        if manifest.name != name:
            raise IntegrityError(f"{where} names model {manifest.name!r}, not {name!r}.")
        ref = self.version_ref(name, manifest.version, known=(tree, manifest))
        if ref.tree != tree:
            raise IntegrityError(
                f"stages/{stage}:models/{name}/ claims version {manifest.version} but its content differs from tag "
                f"{ref.tag}; refusing to use it. Run 'gitreg check' to see what differs."
            )
        return ref

    def resolve(self, uri: ModelURI) -> Resolved:
        """The version a ``models:/`` URI names now."""
        if uri.kind == "version":
            assert uri.version is not None
            return Resolved(self.version_ref(uri.name, uri.version), "version")
        if uri.kind == "latest":
            return Resolved(self.latest_ref(uri.name), "latest")
        if uri.kind == "stage":
            assert uri.stage is not None
            ref = self.stage_ref_version(uri.name, uri.stage)
            if ref is None:
                self.record(uri.name)
                raise NotFoundError(
                    f"Model {uri.name!r} has no version in stage {display_stage(uri.stage)!r}. "
                    f"Promote one with 'gitreg promote {uri.name} VERSION {display_stage(uri.stage)}'."
                )
            return Resolved(ref, display_stage(uri.stage))
        raise InvalidInputError(f"{uri} is not a registry URI.")

    def current_tree(self, uri: ModelURI) -> str | None:
        """The id of the ``models/<name>/`` subtree a registry URI points at now,
        or None if it points at nothing. One object read and no verification:
        a cheap way to notice that a stage moved; :meth:`resolve` to trust it."""
        if uri.kind == "version":
            assert uri.version is not None
            return self.store.tree_oid(f"{tag_ref(uri.name, uri.version)}:models/{uri.name}")
        if uri.kind == "latest":
            return self.store.tree_oid(f"{MAIN}:models/{uri.name}")
        if uri.kind == "stage":
            assert uri.stage is not None
            return self.store.tree_oid(f"{stage_ref(uri.stage)}:models/{uri.name}")
        raise InvalidInputError(f"{uri} is not a registry URI.")

    def stage_trees(self, stage: str) -> dict[str, str]:
        """Model name -> ``models/<name>/`` subtree id for every model in ``stage``,
        from one tree read and unverified (resolve each to trust it)."""
        tree = self.store.read_tree(f"{stage_ref(check_stage_name(stage))}:models") or {}
        return {e.name: e.oid for e in tree.values() if e.is_tree}

    def version_numbers(self, name: str, record: ModelRecord | None = None) -> list[int]:
        """Live versions of ``name`` in order, from its own tags only."""
        record = record or self.record(name)
        nums = []
        prefix = f"refs/tags/{name}/v"
        for ref in self.store.ref_oids(f"refs/tags/{name}/"):
            tail = ref[len(prefix) :]
            if ref.startswith(prefix) and tail.isdigit() and int(tail) not in record.deleted:
                if int(tail) >= record.next_version:
                    continue  # a registration in flight or killed before moving main: not a version
                nums.append(int(tail))
        return sorted(nums)

    def stage_names(self) -> list[str]:
        return sorted(ref[len(STAGE_PREFIX) :] for ref in self.store.ref_oids(STAGE_PREFIX))

    def stages_of(self, name: str, stages: Iterable[str] | None = None) -> dict[str, int]:
        """Stage (canonical name) -> the version of ``name`` it holds."""
        check_model_name(name)
        held = {}
        for stage in self.stage_names() if stages is None else stages:
            tree = self.store.tree_oid(f"{stage_ref(stage)}:models/{name}")
            if tree is None:
                continue
            try:
                manifest = self._parsed(
                    f"{tree}:{MANIFEST_FILE}", Manifest, f"stages/{stage}:models/{name}/{MANIFEST_FILE}"
                )
            except InvalidInputError:
                continue
            if manifest is not None:
                held[stage] = manifest.version
        return held

    def model_version(
        self, ref: VersionRef, record: ModelRecord | None = None, held: dict[str, int] | None = None
    ) -> ModelVersion:
        """The MLflow-shaped view of a version."""
        record = record or self.record(ref.name)
        held = self.stages_of(ref.name) if held is None else held
        in_stages = [s for s, v in held.items() if v == ref.version]
        current = next((f for f in FIXED_STAGES if f.lower() in in_stages), "None")
        aliases = sorted(s for s in in_stages if not is_fixed_stage(s))
        notes = record.version_notes(ref.version)
        m, p = ref.manifest, ref.manifest.provenance
        return ModelVersion(
            name=ref.name,
            version=ref.version,
            current_stage=current,
            aliases=aliases,
            description=notes.description,
            tags=dict(notes.tags),
            run_id=p.run_id,
            source=p.source,
            creation_timestamp=p.created,
            last_updated_timestamp=p.created,
            user_id=p.author,
            commit=ref.commit,
            tag=ref.tag,
            flavor=m.flavor,
            metrics=dict(m.metrics),
            params=dict(m.params),
            signature=m.signature,
            git_commit=p.git_commit,
            git_remote=p.git_remote,
            git_dirty=p.git_dirty,
        )

    def get_version(self, name: str, version: int) -> ModelVersion:
        return self.model_version(self.version_ref(name, version))

    def list_versions(self, name: str, numbers: Sequence[int] | None = None) -> list[ModelVersion]:
        """Every live version of ``name`` in order or, with ``numbers``, just
        those (a page of a long list: only they are read)."""
        record = self.record(name)
        held = self.stages_of(name)
        if numbers is None:
            numbers = self.version_numbers(name, record)
        return [self.model_version(self.version_ref(name, v, record=record), record, held) for v in numbers]

    def prefetch_models(self, names: Sequence[str], stages: Sequence[str]) -> None:
        """Fetch, in a few pipelined exchanges, what :meth:`get_model` reads
        for each of ``names``; use inside ``store.snapshot()``. Describing
        1,000 models then costs a handful of round trips to git instead of
        ~5,000, and entries of ``models/`` are fetched by id, not by path."""
        for branch in (MAIN, *(stage_ref(s) for s in stages)):
            yamls = [f"{n}.yaml" for n in names] if branch == MAIN else []
            self.store.prefetch_entries(f"{branch}:models", [*yamls, *names])
        trees = [(n, f"{branch}:models/{n}") for branch in (MAIN, *(stage_ref(s) for s in stages)) for n in names]
        got = self.store.prefetch([spec for _, spec in trees])
        subtrees = [(n, g[0]) for (n, _), g in zip(trees, got, strict=True) if g and g[1] == "tree"]
        self.store.prefetch([f"{tree}:{MANIFEST_FILE}" for _, tree in subtrees])
        tags = []
        for n, tree in subtrees:
            try:
                manifest = self._parsed(f"{tree}:{MANIFEST_FILE}", Manifest, f"models/{n}/{MANIFEST_FILE}")
            except InvalidInputError:
                continue  # get_model reports it
            if manifest is not None:
                tags += [f"{tag_ref(n, manifest.version)}^{{commit}}", f"{tag_ref(n, manifest.version)}:models/{n}"]
        self.store.prefetch(tags)

    def get_model(self, name: str, *, stages: Iterable[str] | None = None) -> RegisteredModel:
        """The registered model ``name``. ``stages`` (the stage names, as
        :meth:`stage_names` lists them) saves listing the stage branches again
        when describing many models."""
        record = self.record(name)
        held = self.stages_of(name, stages)
        latest: list[ModelVersion] = []
        tree = self.store.tree_oid(f"{MAIN}:models/{name}")
        if tree is not None:
            latest.append(self.model_version(self._latest_at(name, tree, record), record, held))
        shown = {v.version for v in latest}
        for fixed in FIXED_STAGES:
            v = held.get(fixed.lower())
            if v is not None and v not in shown:
                latest.append(self.model_version(self.version_ref(name, v, record=record), record, held))
                shown.add(v)
        return RegisteredModel(
            name=record.name,
            description=record.description,
            tags=dict(record.tags),
            creation_timestamp=record.created,
            last_updated_timestamp=max([record.created, *(v.creation_timestamp for v in latest)]),
            latest_versions=latest,
            aliases={display_stage(s): v for s, v in sorted(held.items())},
        )

    # -- writing -------------------------------------------------------------

    def _sync_work_tree(self, done: str) -> None:
        """Bring a work tree along after main moved; if git refused, keep a
        warning that says what was ``done`` and how to finish."""
        reason = worktree.sync(self.store)
        if reason:
            self.warnings.append(f"{done}, but {reason}")

    def _write(
        self,
        branch: str,
        plan_for: Callable[[str | None, str | None], _Plan],
        *,
        base: str | None = None,
        done: str | None = None,
    ) -> tuple[str, object]:
        """Commit a plan on ``branch`` with compare-and-swap, re-planning on
        conflict so concurrent writers serialise instead of overwriting.
        ``done`` says what was achieved, in a work-tree warning (default: the
        commit's subject)."""
        delay = 0.002
        for _ in range(_RETRIES):
            head = self.store.ref(branch)
            parent = head or base
            root = self.store.commit_tree(parent) if parent else None
            try:
                plan = plan_for(head, root)
                tree = self.store.edit_tree(root, plan.changes)
                commit = self.store.write_commit(tree, [parent] if parent else [], plan.message)
                subject = plan.message.splitlines()[0]
                created = plan.refs(commit)
                if created:
                    # the branch must not have moved since planning: otherwise a
                    # "leftover" tag we replace may be one another writer just landed
                    unmoved = [RefUpdate(branch, head, head)] if head else []
                    self.store.update_refs([*created, *unmoved], subject)
                verified = [RefUpdate(u.ref, u.new, u.new) for u in created]
                try:
                    self.store.update_refs([RefUpdate(branch, commit, head), *verified], subject)
                except GitregError:  # lost the race or refused: the tags go too
                    if created:
                        self._drop_refs(created)
                    raise
            except RefConflict:
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.25)
                continue
            if branch == MAIN:
                self._sync_work_tree(done or f"{subject!r} is committed")
            return commit, plan.result
        raise ConflictError(
            f"Gave up writing {branch[11:]} after {_RETRIES} attempts: other writers kept winning. Try again."
        )

    def _drop_refs(self, created: list[RefUpdate]) -> None:
        """Best effort: remove refs this writer created before losing the race."""
        try:
            self.store.update_refs([RefUpdate(u.ref, None, u.new) for u in created], "gitreg: abandon")
        except ConflictError:
            pass  # someone replaced it already; a leftover is harmless (see _Plan)

    def _check_unique(self, name: str, root: str | None) -> None:
        models = self.store.read_tree(f"{root}:models") if root else None
        for entry in (models or {}).values():
            other = entry.name[:-5] if entry.name.endswith(".yaml") else entry.name
            if other.lower() == name.lower():
                if other == name:
                    raise AlreadyExistsError(f"Registered model {name!r} already exists.")
                raise AlreadyExistsError(
                    f"Cannot create {name!r}: model {other!r} exists and names must differ by more than case."
                )

    def create_model(
        self, name: str, description: str | None = None, tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        check_model_name(name)
        desc, tags = check_description(description), check_tags(tags)

        def plan(head: str | None, root: str | None) -> _Plan:
            self._check_unique(name, root)
            record = self._new_record(name, desc, tags)
            blob = self.store.write_blob(record.to_yaml().encode())
            return _Plan({f"models/{name}.yaml": (MODE_FILE, blob)}, f"Create registered model {name}")

        self._write(MAIN, plan)
        return self.get_model(name)

    def _new_record(self, name: str, description: str, tags: dict[str, str]) -> ModelRecord:
        """A fresh record. Tags left by an earlier model of this name (deleted
        since) stay history: their numbers are tombstoned, never reused."""
        old = self._tag_numbers(name)
        if old and not self.store.is_ancestor(f"{tag_ref(name, old[-1])}^{{commit}}", MAIN):
            old = old[:-1]  # a killed first registration's tag: its number is still free
        return ModelRecord(
            name=name,
            created=_now_ms(),
            next_version=(old[-1] + 1) if old else 1,
            description=description,
            tags=tags,
            deleted=tuple(old),
        )

    def _next_free(self, name: str, start: int) -> int:
        """The first version number at or after ``start`` with no tag. The
        highest tag is reused only if it never reached ``main`` (a
        registration killed between creating the tag and moving ``main``)."""
        taken = set(self._tag_numbers(name))
        n = start
        while n in taken:
            n += 1
        if n > start and not self.store.is_ancestor(f"{tag_ref(name, n - 1)}^{{commit}}", MAIN):
            return n - 1
        return n

    def register(
        self,
        name: str,
        package: Package,
        *,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        create: bool = True,
        provenance_dir: Path | None = None,
    ) -> ModelVersion:
        """Add ``package`` as the next version of ``name`` (creating the model
        if ``create``): one commit on main plus the tag (see :class:`_Plan`
        for the order they are written in)."""
        check_model_name(name)
        desc, tags = check_description(description), check_tags(tags)
        blobs = self._store_files(package)
        origin = self._origin(provenance_dir)

        def plan(head: str | None, root: str | None) -> _Plan:
            record = self._record_for_new_version(name, head, root, create)
            version = record.next_version
            leftover = self._leftover_tag(name, version)
            return self._version_plan(name, version, record, package, blobs, origin, desc, tags, leftover)

        commit, ref = self._write(MAIN, plan, done="the version is registered")
        assert isinstance(ref, VersionRef)
        self.store.clear_stale_locks(f"refs/tags/{name}")
        # A version that did not exist a moment ago is in no stage yet: no need to list stage branches.
        return self.model_version(replace(ref, commit=commit), held={})

    def register_many(self, versions: Iterable[NewVersion], *, provenance_dir: Path | None = None) -> list[VersionRef]:
        """Register many versions, of one model or several, in one go.

        Each version is the same commit and tag :meth:`register` would make
        (same trees, manifest, record and messages), chained on ``main`` in the
        given order; ``main`` and every new tag then move in ONE compare-and-swap
        transaction, so importing a long history or building a large registry
        costs one git process instead of one per version, and a failure leaves
        no version behind. Missing models are created.
        """
        items = list(versions)
        for item in items:
            check_model_name(item.name)
        notes = [(check_description(i.description), check_tags(i.tags)) for i in items]
        stored: dict[int, list[tuple[Artifact, str, str]]] = {}
        for item in items:
            if id(item.package) not in stored:
                stored[id(item.package)] = self._store_files(item.package)
        origin = self._origin(provenance_dir)
        delay = 0.002
        for _ in range(_RETRIES):
            head = self.store.ref(MAIN)
            try:
                with self.store.packing():
                    parent, root = head, self.store.commit_tree(head) if head else None
                    records: dict[str, ModelRecord] = {}
                    refs: list[VersionRef] = []
                    updates: list[RefUpdate] = []
                    for item, (desc, tags) in zip(items, notes, strict=True):
                        record = records.get(item.name) or self._record_for_new_version(item.name, parent, root, True)
                        version = record.next_version
                        leftover = None if item.name in records else self._leftover_tag(item.name, version)
                        plan = self._version_plan(
                            item.name,
                            version,
                            record,
                            item.package,
                            stored[id(item.package)],
                            origin,
                            desc,
                            tags,
                            leftover,
                        )
                        root = self.store.edit_tree(root, plan.changes)
                        parent = self.store.write_commit(root, [parent] if parent else [], plan.message)
                        updates += plan.refs(parent)
                        ref = plan.result
                        assert isinstance(ref, VersionRef)
                        refs.append(replace(ref, commit=parent))
                        assert plan.record is not None
                        records[item.name] = plan.record
            except RefConflict:  # another writer's registration is in flight: plan again
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.25)
                continue
            if parent is None or parent == head:
                return []
            try:
                # as for one registration (see _Plan): the tags first, checking main has not
                # moved, then main, checking the tags are still ours
                subject = f"register {len(refs)} versions"
                self.store.update_refs([*updates, *([RefUpdate(MAIN, head, head)] if head else [])], subject)
                verified = [RefUpdate(u.ref, u.new, u.new) for u in updates]
                try:
                    self.store.update_refs([RefUpdate(MAIN, parent, head), *verified], subject)
                except GitregError:
                    self._drop_refs(updates)
                    raise
            except RefConflict:
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.25)
                continue
            self._sync_work_tree("the version is registered" if len(refs) == 1 else "the versions are registered")
            return refs
        raise ConflictError("Gave up registering: other writers kept moving main. Try again.")

    def _origin(self, provenance_dir: Path | None) -> tuple[str, worktree.WorkTreeInfo | None]:
        """Who registers, and the training repository the call runs in (if any)."""
        info = worktree.describe(provenance_dir or Path.cwd(), exclude=self.store.git_dir)
        return str(self.store.identity()), info

    def _record_for_new_version(self, name: str, head: str | None, root: str | None, create: bool) -> ModelRecord:
        record = self._record_at(head, name) if head else None
        if record is None:
            if not create:
                raise NotFoundError(self._missing_model_message(name))
            self._check_unique(name, root)
            record = self._new_record(name, "", {})
        return record

    def _version_plan(
        self,
        name: str,
        version: int,
        record: ModelRecord,
        package: Package,
        blobs: list[tuple[Artifact, str, str]],
        origin: tuple[str, worktree.WorkTreeInfo | None],
        desc: str,
        tags: dict[str, str],
        leftover: str | None = None,
    ) -> _Plan:
        """The tree changes, message and tag that make ``version`` of ``name``:
        shared by :meth:`register` and :meth:`register_many` so both write the
        very same objects. ``result`` is the new version's :class:`VersionRef`
        (its commit filled in by the caller) and ``record`` the updated record."""
        author, info = origin
        manifest = Manifest(
            name=name,
            version=version,
            flavor=package.flavor,
            artifacts=tuple(a for a, _, _ in blobs),
            provenance=Provenance(
                author=author,
                created=_now_ms(),
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
        entries: dict[str, tuple[str, str] | None] = {a.path: (mode, oid) for a, mode, oid in blobs}
        entries[MANIFEST_FILE] = (MODE_FILE, self.store.write_blob(manifest.to_yaml().encode()))
        subtree = self.store.edit_tree(None, entries)
        record = replace(record, next_version=version + 1, registered={**record.registered, version: subtree})
        if desc or tags:
            record = record.with_notes(version, VersionNotes(desc, tags))
        message = f"Register {name} version {version}\n\n" + _summary(manifest)
        tag = tag_ref(name, version)

        def refs(commit: str) -> list[RefUpdate]:
            tag_obj = self.store.write_tag(commit, f"{name}/v{version}", message)
            return [RefUpdate(tag, tag_obj, leftover)]

        return _Plan(
            {
                f"models/{name}": (MODE_TREE, subtree),
                f"models/{name}.yaml": (MODE_FILE, self.store.write_blob(record.to_yaml().encode())),
            },
            message,
            refs,
            VersionRef(name, version, tag[10:], "", subtree, manifest),
            record,
        )

    def lfs_threshold(self) -> int | None:
        """Artifacts larger than this many bytes are stored with Git LFS
        (``lfs: {threshold_bytes: N}`` in registry.yaml); None: never."""
        raw = self.store.read_blob(f"{MAIN}:{CONFIG_FILE}")
        if raw is None or b"lfs" not in raw:
            return None
        lfs = yamlio.load_mapping(raw, CONFIG_FILE).get("lfs") or {}
        value = lfs.get("threshold_bytes") if isinstance(lfs, dict) else None
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInputError(
                f"{CONFIG_FILE}: lfs.threshold_bytes must be a whole number of bytes, not {value!r}."
            )
        return value

    def _leftover_tag(self, name: str, version: int) -> str | None:
        """The tag object already at ``name/v<version>`` (not yet a version:
        ``version`` is the record's next one), or None if there is none.

        Such a tag is another writer's registration in flight, or one that
        was killed between creating the tag and moving ``main``. In flight it
        is left alone (:class:`RefConflict`: retry); once older than the
        stale-lock age it is replaced."""
        got = self.store.read(tag_ref(name, version))
        if got is None:
            return None
        tagged = re.search(rb"^tagger .* (\d+) [+-]\d{4}$", got[2], re.M) if got[1] == "tag" else None
        if tagged and time.time() - int(tagged.group(1)) < max(stale_after(), 1.0):
            raise RefConflict(f"{name} version {version} is being registered by another writer.")
        if self.store.is_ancestor(f"{tag_ref(name, version)}^{{commit}}", MAIN):
            raise RefConflict(f"{name} version {version} was registered meanwhile; planning again.")
        return got[0]

    def _store_files(self, package: Package) -> list[tuple[Artifact, str, str]]:
        out = []
        threshold = self.lfs_threshold()
        for rel in package.files:
            path = package.root / rel
            large = threshold is not None and path.stat().st_size > threshold
            oid, sha, size = self.store.write_lfs_file(path) if large else self.store.write_file(path)
            mode = MODE_EXEC if os.access(path, os.X_OK) else MODE_FILE
            out.append((Artifact(rel, sha, size), mode, oid))
        return out

    def _update_record(self, name: str, change: Callable[[ModelRecord], ModelRecord], message: str) -> ModelRecord:
        def plan(head: str | None, root: str | None) -> _Plan:
            record = self._record_at(head, name) if head else None
            if record is None:
                raise NotFoundError(self._missing_model_message(name))
            new = change(record)
            blob = self.store.write_blob(new.to_yaml().encode())
            return _Plan({f"models/{name}.yaml": (MODE_FILE, blob)}, message, result=new)

        _, record = self._write(MAIN, plan)
        assert isinstance(record, ModelRecord)
        return record

    def update_model(self, name: str, description: str | None) -> RegisteredModel:
        check_model_name(name)
        desc = check_description(description)
        self._update_record(name, lambda r: replace(r, description=desc), f"Update description of {name}")
        return self.get_model(name)

    def set_model_tag(self, name: str, key: str, value: str | None) -> None:
        """Set (or with ``value=None`` delete) a registered model's tag."""
        check_model_name(name)
        if value is None:
            check_tag_key(key)

            def drop(r: ModelRecord) -> ModelRecord:
                if key not in r.tags:
                    raise NotFoundError(f"Model {name!r} has no tag {key!r}.")
                return replace(r, tags={k: v for k, v in r.tags.items() if k != key})

            self._update_record(name, drop, f"Delete tag {key} of {name}")
        else:
            tags = check_tags({key: value})
            self._update_record(name, lambda r: replace(r, tags={**r.tags, **tags}), f"Set tag {key} of {name}")

    def update_version(
        self, name: str, version: int, description: str | None = None, tags: dict[str, str | None] | None = None
    ) -> ModelVersion:
        """Change a version's description and/or tags (a tag value of None deletes it)."""
        self.version_ref(name, version)
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

        self._update_record(name, change, f"Update metadata of {name} version {version}")
        return self.get_version(name, version)

    # -- stages --------------------------------------------------------------

    def _stage_plan_refs(self, name: str, moves: dict[str, VersionRef | None], message: str) -> list[RefUpdate]:
        """Ref updates that set each stage's ``models/<name>/`` (None removes it),
        each a new commit on its stage branch, compare-and-swapped."""
        updates = []
        for stage, ref in moves.items():
            branch = stage_ref(stage)
            head = self.store.ref(branch)
            root = self.store.commit_tree(head) if head else None
            change = {f"models/{name}": (MODE_TREE, ref.tree) if ref else None}
            tree = self.store.edit_tree(root, change)
            if root is not None and tree == root:
                continue
            commit = self.store.write_commit(tree, [head] if head else [], message)
            updates.append(RefUpdate(branch, commit, head))
        return updates

    def _move_stages(
        self, name: str, decide: Callable[[dict[str, int]], tuple[dict[str, VersionRef | None], str]]
    ) -> dict[str, int]:
        delay = 0.002
        for _ in range(_RETRIES):
            held = self.stages_of(name)
            moves, message = decide(held)
            updates = self._stage_plan_refs(name, moves, message)
            if not updates:
                return held
            try:
                self.store.update_refs(updates, message.splitlines()[0])
            except RefConflict:
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.25)
                continue
            # The transaction moved exactly these branches from ``held``: no need to list them again.
            after = {s: v for s, v in held.items() if s not in moves}
            after.update({s: ref.version for s, ref in moves.items() if ref is not None})
            return after
        raise ConflictError(f"Gave up moving stages of {name!r}: other writers kept winning. Try again.")

    def promote(
        self, name: str, version: int, stage: str, *, archive_existing: bool = False, exclusive_fixed: bool = True
    ) -> ModelVersion:
        """Put ``version`` of ``name`` in ``stage`` (one commit on ``stages/<stage>``).

        With ``exclusive_fixed`` (MLflow's behaviour) a version leaves the other
        fixed stages (Staging/Production/Archived) it was in, since MLflow gives
        a version one current stage. ``archive_existing`` moves the version
        ``stage`` held before to Archived, as MLflow's
        ``archive_existing_versions`` does. All branches move in one transaction.
        """
        ref = self.version_ref(name, version)
        if isinstance(stage, str) and stage.lower() == "none":
            return self.demote_version(name, ref.version)
        target = check_stage_name(stage)

        def decide(held: dict[str, int]) -> tuple[dict[str, VersionRef | None], str]:
            moves: dict[str, VersionRef | None] = {target: ref}
            previous = held.get(target)
            if exclusive_fixed and is_fixed_stage(target):
                for s, v in held.items():
                    if s != target and is_fixed_stage(s) and v == ref.version:
                        moves[s] = None
            if archive_existing and previous is not None and previous != ref.version and target != "archived":
                moves["archived"] = self.version_ref(name, previous)
            return moves, self.promotion_message(ref, target, previous)

        held = self._move_stages(name, decide)
        return self.model_version(ref, held=held)

    def promotion_message(self, ref: VersionRef, stage: str, previous: int | None) -> str:
        """The commit message of putting ``ref`` in ``stage``: from which
        version to which, and how each shared metric changes."""
        shown = display_stage(stage)
        lines = [f"Promote {ref.name} version {ref.version} to {shown}", ""]
        if previous is not None and previous != ref.version:
            lines.append(f"{shown}: version {previous} -> {ref.version}")
            old = self.version_ref(ref.name, previous).manifest.metrics
            for k, value in sorted(ref.manifest.metrics.items()):
                if k in old:
                    lines.append(f"{k}: {old[k]:g} -> {value:g} ({value - old[k]:+g})")
        else:
            lines.append(f"{shown}: (none) -> version {ref.version}")
        return "\n".join(lines)

    def propose(self, name: str, version: int, stage: str) -> Proposal:
        """Put ``version`` of ``name`` in ``stage`` on a branch for review
        instead of on the stage itself; see :mod:`gitreg.proposal`."""
        from gitreg.proposal import propose

        return propose(self, name, version, stage)

    def demote(self, name: str, stage: str) -> int | None:
        """Remove ``name`` from ``stage``; returns the version it held."""
        self.record(name)
        target = check_stage_name(stage)
        held_before: list[int | None] = []

        def decide(held: dict[str, int]) -> tuple[dict[str, VersionRef | None], str]:
            held_before.append(held.get(target))
            return ({target: None} if target in held else {}), f"Remove {name} from {display_stage(target)}"

        self._move_stages(name, decide)
        return held_before[-1] if held_before else None

    def demote_version(self, name: str, version: int) -> ModelVersion:
        """MLflow's transition to stage "None": the version leaves every fixed stage."""

        def decide(held: dict[str, int]) -> tuple[dict[str, VersionRef | None], str]:
            moves: dict[str, VersionRef | None] = {
                s: None for s, v in held.items() if v == version and is_fixed_stage(s)
            }
            return moves, f"Move {name} version {version} to no stage"

        held = self._move_stages(name, decide)
        return self.model_version(self.version_ref(name, version), held=held)

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        return self.promote(name, version, alias, exclusive_fixed=False)

    def stage_history(self, name: str, stages: Iterable[str] | None = None) -> list[StageMove]:
        """Stage moves of ``name`` from each stage branch's log, newest first."""
        check_model_name(name)
        moves = []
        for stage in self.stage_names() if stages is None else [check_stage_name(s) for s in stages]:
            if self.store.ref(stage_ref(stage)) is None:
                continue
            # First parents only: a stage move merged from a pull request is the
            # merge commit on the stage branch, not the commits it brought in.
            for entry in self.store.log(stage_ref(stage), [f"models/{name}"], first_parent=True):
                now = self._version_at(entry.commit, name)
                before = self._version_at(entry.parents[0], name) if entry.parents else None
                moves.append(
                    StageMove(
                        display_stage(stage),
                        now,
                        before,
                        entry.commit,
                        entry.author,
                        entry.author_time,
                        entry.subject,
                        entry.body,
                    )
                )
        return sorted(moves, key=lambda m: m.time, reverse=True)

    def _version_at(self, rev: str, name: str) -> int | None:
        raw = self.store.read_blob(f"{rev}:models/{name}/{MANIFEST_FILE}")
        if raw is None:
            return None
        try:
            return Manifest.from_yaml(raw, "manifest").version
        except InvalidInputError:
            return None

    # -- deleting and renaming -------------------------------------------------

    def delete_version(self, name: str, version: int) -> None:
        """Tombstone a version: it no longer resolves and leaves every stage.
        Its tag stays as history and its number is never reused."""
        self.version_ref(name, version)
        version = check_version(version)
        self._move_stages(
            name, lambda held: ({s: None for s, v in held.items() if v == version}, f"Delete {name} version {version}")
        )

        def plan(head: str | None, root: str | None) -> _Plan:
            record = self._record_at(head, name) if head else None
            if record is None:
                raise NotFoundError(self._missing_model_message(name))
            record = replace(record, deleted=tuple(sorted({*record.deleted, version})))
            record = record.with_notes(version, VersionNotes())
            changes: dict[str, tuple[str, str] | None] = {
                f"models/{name}.yaml": (MODE_FILE, self.store.write_blob(record.to_yaml().encode()))
            }
            latest = self._version_at(head, name) if head else None
            if latest == version:
                alive = [v for v in self._tag_numbers(name) if v not in record.deleted]
                if alive:
                    changes[f"models/{name}"] = (
                        MODE_TREE,
                        self.store.tree_oid(f"{tag_ref(name, alive[-1])}:models/{name}") or "",
                    )
                else:
                    changes[f"models/{name}"] = None
            return _Plan(changes, f"Delete {name} version {version}")

        self._write(MAIN, plan)

    def _tag_numbers(self, name: str) -> list[int]:
        prefix = f"refs/tags/{name}/v"
        return sorted(
            int(ref[len(prefix) :]) for ref in self.store.ref_oids(f"refs/tags/{name}/") if ref[len(prefix) :].isdigit()
        )

    def delete_model(self, name: str) -> None:
        """Remove a registered model from main and every stage. Its tags stay
        as history, so a model created later under this name continues the numbering."""
        self.record(name)
        self._move_stages(name, lambda held: ({s: None for s in held}, f"Delete registered model {name}"))

        def plan(head: str | None, root: str | None) -> _Plan:
            if head is None or self._record_at(head, name) is None:
                raise NotFoundError(self._missing_model_message(name))
            return _Plan({f"models/{name}": None, f"models/{name}.yaml": None}, f"Delete registered model {name}")

        self._write(MAIN, plan)

    def rename_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model. Versions are immutable, so each is registered again
        under the new name (same artifacts, new tags ``<new>/vN``) and stages
        follow; the old tags remain as history."""
        record = self.record(name)
        check_model_name(new_name)
        self._check_unique(new_name, self.store.commit_tree(self.store.ref(MAIN) or ""))
        nums = self.version_numbers(name)
        held = self.stages_of(name)
        new_trees: dict[int, str] = {}
        tag_updates: list[RefUpdate] = []
        head = self.store.ref(MAIN)
        assert head is not None
        root = self.store.commit_tree(head)
        parent = head
        for v in nums:
            old = self.version_ref(name, v)
            manifest = replace(old.manifest, name=new_name)
            blob = self.store.write_blob(manifest.to_yaml().encode())
            subtree = self.store.edit_tree(old.tree, {MANIFEST_FILE: (MODE_FILE, blob)})
            new_trees[v] = subtree
            root = self.store.edit_tree(root, {f"models/{name}": None, f"models/{new_name}": (MODE_TREE, subtree)})
            message = f"Register {new_name} version {v} (renamed from {name})\n\n" + _summary(manifest)
            parent = self.store.write_commit(root, [parent], message)
            tag = self.store.write_tag(parent, f"{new_name}/v{v}", message)
            tag_updates.append(RefUpdate(tag_ref(new_name, v), tag, None))
        latest = self._version_at(head, name)
        moved = replace(record, name=new_name, notes=dict(record.notes), registered=dict(new_trees))
        changes: dict[str, tuple[str, str] | None] = {
            f"models/{name}": None,
            f"models/{name}.yaml": None,
            f"models/{new_name}.yaml": (MODE_FILE, self.store.write_blob(moved.to_yaml().encode())),
        }
        if latest in new_trees:
            changes[f"models/{new_name}"] = (MODE_TREE, new_trees[latest])
        root = self.store.edit_tree(root, changes)
        final = self.store.write_commit(root, [parent], f"Rename registered model {name} to {new_name}")
        stage_updates = []
        for stage, v in held.items():
            branch = stage_ref(stage)
            s_head = self.store.ref(branch)
            assert s_head is not None
            s_tree = self.store.edit_tree(
                self.store.commit_tree(s_head),
                {f"models/{name}": None, f"models/{new_name}": (MODE_TREE, new_trees[v])},
            )
            commit = self.store.write_commit(s_tree, [s_head], f"Rename {name} to {new_name} in {display_stage(stage)}")
            stage_updates.append(RefUpdate(branch, commit, s_head))
        self.store.update_refs(
            [RefUpdate(MAIN, final, head), *tag_updates, *stage_updates], f"rename {name} {new_name}"
        )
        self._sync_work_tree(f"{name} is renamed {new_name}")
        return self.get_model(new_name)


def _summary(manifest: Manifest) -> str:
    lines = [f"flavor: {manifest.flavor}"]
    if manifest.provenance.run_id:
        lines.append(f"run_id: {manifest.provenance.run_id}")
    for k, v in sorted(manifest.metrics.items()):
        lines.append(f"metric {k}: {v:g}")
    return "\n".join(lines) + "\n"
