"""Reading a registry: resolution of versions, stages and URIs, and the MLflow-shaped views of them.

Every question about one model is answered by reading a handful of refs and
trees: nothing here scans all tags. Whatever a stage or ``latest`` names is
trusted only once its subtree equals its tag's (the design's resolution rule).
A stage entry for a version that is not live (deleted, or a tag ``main``'s
record never reached) is ignored: it never blocks a listing or a promotion.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from gitreg.config import RegistryConfig
from gitreg.entities import ModelVersion, RegisteredModel
from gitreg.errors import GitregError, IntegrityError, InvalidInputError, NotFoundError
from gitreg.manifest import MANIFEST_FILE, Manifest, ModelRecord
from gitreg.names import FIXED_STAGES, check_model_name, check_stage_name, check_version, display_stage, is_fixed_stage
from gitreg.registry import layout
from gitreg.registry.activity import Activity, last_changes
from gitreg.registry.freshness import Freshness
from gitreg.registry.layout import MAIN, at
from gitreg.registry.views import Resolved, VersionRef
from gitreg.store import GitStore
from gitreg.uri import ModelURI

_IMMUTABLE = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?(?::|$)")
_PARSE_CACHE = 20_000  # parsed manifests and records kept per reader (a few KB each)
_Parsed = TypeVar("_Parsed", Manifest, ModelRecord, RegistryConfig)


def is_live(record: ModelRecord, version: int) -> bool:
    """Whether ``version`` is a version of the model: registered on main and not deleted."""
    return version < record.next_version and version not in record.deleted


@dataclass(frozen=True)
class ModelParts:
    """What a registered model's view is made of, read before the history that dates it."""

    record: ModelRecord
    held: dict[str, int]  # stage -> live version
    shown: list[VersionRef]  # latest, then each fixed stage's version not already shown


#: what :meth:`Reader.get_models` does with a model it cannot describe (None: raise)
Failed = Callable[[str, GitregError], None]


class Reader:
    """Answers questions about one registry's current state."""

    def __init__(self, store: GitStore, fresh: Freshness) -> None:
        self.store = store
        self.fresh = fresh
        self._parse_cache: dict[tuple[type, str], Manifest | ModelRecord | RegistryConfig] = {}

    # -- parsing, cached by blob id ----------------------------------------

    def parsed(self, spec: str, kind: type[_Parsed], where: str) -> _Parsed | None:
        """The blob at ``spec`` parsed as ``kind``, or None if there is no blob. Blobs are
        content-addressed, so a parse is kept by blob id: a warm process parses each once."""
        fixed = _IMMUTABLE.match(spec) is not None  # an object id, or a path inside one: never changes
        if fixed:
            known = self._parse_cache.get((kind, spec))
            if isinstance(known, kind):
                return known
        got = self.store.read(spec)
        if got is None or got[1] != "blob":
            return None
        key = (kind, got[0])
        value = self._parse_cache.get(key)
        if not isinstance(value, kind):
            value = kind.from_yaml(got[2], where)
            if len(self._parse_cache) >= _PARSE_CACHE:
                self._parse_cache.clear()
            self._parse_cache[key] = value
        if fixed:
            self._parse_cache[(kind, spec)] = value
        return value

    def config(self) -> RegistryConfig:
        """``registry.yaml`` on main, parsed once per version of the file."""
        self.fresh.moving()
        return self.parsed(at(MAIN, layout.CONFIG_FILE), RegistryConfig, layout.CONFIG_FILE) or RegistryConfig()

    def is_registry(self) -> bool:
        return self.store.read(at(MAIN, layout.CONFIG_FILE)) is not None

    def record_at(self, rev: str, name: str) -> ModelRecord | None:
        path = layout.record_path(name)
        return self.parsed(at(rev, path), ModelRecord, path)

    def manifest(self, spec: str, where: str) -> Manifest:
        manifest = self.parsed(spec, Manifest, where)
        if manifest is None:
            raise IntegrityError(f"{where}: {MANIFEST_FILE} is missing.")
        return manifest

    def version_at(self, rev: str, name: str) -> int | None:
        """The version number ``models/<name>/`` says at ``rev``, unverified; None if absent or unreadable."""
        try:
            manifest = self.parsed(at(rev, layout.manifest_path(name)), Manifest, layout.manifest_path(name))
        except InvalidInputError:
            return None
        return manifest.version if manifest is not None else None

    # -- models and records -------------------------------------------------

    def model_names(self) -> list[str]:
        self.fresh.moving()
        tree = self.store.read_tree(at(MAIN, layout.MODELS_DIR)) or {}
        names = (layout.record_name(e.name) for e in tree.values() if not e.is_tree)
        return sorted((n for n in names if n), key=str.lower)

    def record(self, name: str) -> ModelRecord:
        check_model_name(name)
        self.fresh.moving()
        rec = self.record_at(MAIN, name)
        if rec is None:
            raise NotFoundError(self.missing_model_message(name))
        return rec

    def missing_model_message(self, name: str) -> str:
        """Says the model is missing and, if one is close (other case, a typo), which was meant."""
        names = self.model_names()
        near = [n for n in names if n.lower() == name.lower()]
        if not near:
            lowered = {n.lower(): n for n in names}
            near = [lowered[n] for n in difflib.get_close_matches(name.lower(), lowered, n=3, cutoff=0.75)]
        hint = f" Did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        return f"Registered model {name!r} does not exist.{hint}"

    # -- versions -----------------------------------------------------------

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
        tag = layout.tag_ref(name, version)
        self.fresh.immutable(tag)
        got = self.store.read(f"{tag}^{{commit}}")
        if record is None:
            record = self.record_at(MAIN, name)
        if record is None:
            raise NotFoundError(self.missing_model_message(name))
        if got is None or not is_live(record, version):
            state = "was deleted" if version in record.deleted else "does not exist"
            raise NotFoundError(
                f"Version {version} of model {name!r} {state}. List versions with 'gitreg versions {name}'."
            )
        short = layout.tag_name(name, version)
        tree = self.store.tree_oid(at(tag, layout.version_dir(name)))
        if tree is None:
            raise IntegrityError(f"Tag {short} does not contain {layout.version_dir(name)}/.")
        if known is not None and known[0] == tree:
            manifest = known[1]
        else:
            manifest = self.manifest(at(tree, MANIFEST_FILE), at(short, layout.manifest_path(name)))
        if manifest.name != name or manifest.version != version:
            raise IntegrityError(
                f"Tag {short} holds a manifest for {manifest.name!r} version {manifest.version}, "
                f"not {name!r} version {version}."
            )
        return VersionRef(name, version, short, got[0], tree, manifest)

    def latest_ref(self, name: str) -> VersionRef:
        check_model_name(name)
        self.fresh.moving()
        tree = self.store.tree_oid(at(MAIN, layout.version_dir(name)))
        if tree is None:
            self.record(name)
            raise NotFoundError(
                f"Model {name!r} has no versions yet. Register one with 'gitreg register {name} SOURCE'."
            )
        return self.latest_at(name, tree)

    def latest_at(self, name: str, tree: str, record: ModelRecord | None = None) -> VersionRef:
        """The version whose subtree ``tree`` is ``models/<name>/`` on main, checked against its tag."""
        manifest = self.manifest(at(tree, MANIFEST_FILE), at("main", layout.manifest_path(name)))
        ref = self.version_ref(name, manifest.version, record=record, known=(tree, manifest))
        if ref.tree != tree:
            raise IntegrityError(
                f"main:{layout.version_dir(name)}/ says version {manifest.version} but differs from tag {ref.tag}; "
                "run 'gitreg check'."
            )
        return ref

    def tag_numbers(self, name: str) -> list[int]:
        """Every version number with a tag, live or not (deleted, in flight, killed)."""
        return layout.tag_numbers(name, self.store.ref_oids(layout.model_tags(name)))

    def version_numbers(self, name: str, record: ModelRecord | None = None) -> list[int]:
        """Live versions of ``name`` in order, from its own tags only."""
        record = record or self.record(name)
        return [n for n in self.tag_numbers(name) if is_live(record, n)]

    # -- stages -------------------------------------------------------------

    def stage_names(self) -> list[str]:
        self.fresh.moving()
        found = (layout.stage_of(ref) for ref in self.store.ref_oids(layout.STAGE_PREFIX))
        return sorted(s for s in found if s)

    def stage_ref_version(self, name: str, stage: str, *, as_of: int | None = None) -> VersionRef | None:
        """The version ``stage`` holds for ``name``, verified against its tag (None: holds none,
        or holds a version that is no longer live). With ``as_of`` (seconds since the epoch): what
        it held then, i.e. at the stage branch's newest first-parent commit at or before that
        instant (committer date); NotFoundError if the branch did not exist yet."""
        check_model_name(name)
        stage = check_stage_name(stage)
        self.fresh.moving()
        rev, label = layout.stage_ref(stage), layout.stage_branch(stage)
        if as_of is not None:
            rev = self.stage_commit_at(stage, as_of)
            label = rev[:12]
        tree = self.store.tree_oid(at(rev, layout.version_dir(name)))
        if tree is None:
            return None
        where = at(label, layout.manifest_path(name))
        manifest = self.manifest(at(tree, MANIFEST_FILE), where)
        if manifest.name != name:
            raise IntegrityError(f"{where} names model {manifest.name!r}, not {name!r}.")
        record = self.record(name)
        if not is_live(record, manifest.version):
            return None
        ref = self.version_ref(name, manifest.version, record=record, known=(tree, manifest))
        if ref.tree != tree:
            raise IntegrityError(
                f"{label}:{layout.version_dir(name)}/ claims version {manifest.version} but its "
                f"content differs from tag {ref.tag}; refusing to use it. Run 'gitreg check' to see what differs."
            )
        return ref

    def stage_commit_at(self, stage: str, when: int) -> str:
        """The commit ``stages/<stage>`` was at ``when``: its newest first-parent commit at or before it."""
        from gitreg.store import timeline
        from gitreg.uri import format_instant

        commit = timeline.first_parent_at(self.store, layout.stage_ref(check_stage_name(stage)), when)
        if commit is None:
            raise NotFoundError(
                f"Stage {display_stage(stage)!r} did not exist yet at {format_instant(when)} "
                f"(git log --first-parent {layout.stage_branch(stage)})."
            )
        return commit

    def stages_of(
        self, name: str, stages: Iterable[str] | None = None, record: ModelRecord | None = None
    ) -> dict[str, int]:
        """Stage (canonical name) -> the live version of ``name`` it holds (unverified)."""
        check_model_name(name)
        self.fresh.moving()
        if record is None:
            record = self.record_at(MAIN, name)
        held = {}
        for stage in self.stage_names() if stages is None else stages:
            tree = self.store.tree_oid(at(layout.stage_ref(stage), layout.version_dir(name)))
            if tree is None:
                continue
            where = at(layout.stage_branch(stage), layout.manifest_path(name))
            try:
                manifest = self.parsed(at(tree, MANIFEST_FILE), Manifest, where)
            except InvalidInputError:
                continue
            if manifest is not None and record is not None and is_live(record, manifest.version):
                held[stage] = manifest.version
        return held

    def stage_trees(self, stage: str) -> dict[str, str]:
        """Model name -> ``models/<name>/`` subtree id for every model in ``stage``,
        from one tree read and unverified (resolve each to trust it)."""
        self.fresh.moving()
        tree = self.store.read_tree(at(layout.stage_ref(check_stage_name(stage)), layout.MODELS_DIR)) or {}
        return {e.name: e.oid for e in tree.values() if e.is_tree}

    # -- URIs ---------------------------------------------------------------

    def resolve(self, uri: ModelURI) -> Resolved:
        """The version a ``models:/`` URI names now."""
        if uri.kind == "version":
            assert uri.version is not None
            return Resolved(self.version_ref(uri.name, uri.version), "version")
        if uri.kind == "latest":
            return Resolved(self.latest_ref(uri.name), "latest")
        if uri.kind == "stage":
            assert uri.stage is not None
            ref = self.stage_ref_version(uri.name, uri.stage, as_of=uri.as_of)
            if ref is None and uri.as_of is not None:
                from gitreg.uri import format_instant

                raise NotFoundError(
                    f"Model {uri.name!r} had no version in stage {display_stage(uri.stage)!r} at "
                    f"{format_instant(uri.as_of)}."
                )
            if ref is None:
                self.record(uri.name)
                raise NotFoundError(
                    f"Model {uri.name!r} has no version in stage {display_stage(uri.stage)!r}. "
                    f"Promote one with 'gitreg promote {uri.name} VERSION {display_stage(uri.stage)}'."
                )
            if uri.as_of is not None:
                from gitreg.uri import format_instant

                return Resolved(ref, f"{display_stage(uri.stage)} at {format_instant(uri.as_of)}")
            return Resolved(ref, display_stage(uri.stage))
        raise InvalidInputError(f"{uri} is not a registry URI.")

    def current_tree(self, uri: ModelURI) -> str | None:
        """The id of the ``models/<name>/`` subtree a registry URI points at now,
        or None if it points at nothing. One object read and no verification:
        a cheap way to notice that a stage moved; :meth:`resolve` to trust it."""
        path = layout.version_dir(uri.name)
        if uri.kind == "version":
            assert uri.version is not None
            return self.store.tree_oid(at(layout.tag_ref(uri.name, uri.version), path))
        if uri.kind == "latest":
            return self.store.tree_oid(at(MAIN, path))
        if uri.kind == "stage":
            assert uri.stage is not None
            if uri.as_of is not None:
                return self.store.tree_oid(at(self.stage_commit_at(uri.stage, uri.as_of), path))
            return self.store.tree_oid(at(layout.stage_ref(uri.stage), path))
        raise InvalidInputError(f"{uri} is not a registry URI.")

    # -- MLflow-shaped views ------------------------------------------------

    def activity(
        self,
        wanted: Mapping[str, Mapping[int, int]],
        records: Mapping[str, ModelRecord],
        stages: Iterable[str] | None = None,
        *,
        models: bool = True,
    ) -> Activity:
        """When each model in ``wanted`` and each version it maps (version -> creation, ms) last
        changed (:mod:`.activity`: its index, and one ``git log`` of what each branch gained since,
        for all of them at once). A stage's subtree is named by the version ``records`` says was
        registered with it, else by its manifest."""
        registered: dict[str, dict[str, int]] = {}

        def version_of(name: str, tree: str) -> int | None:
            record = records.get(name)
            if name not in registered:
                registered[name] = {t: v for v, t in record.registered.items()} if record else {}
            known = registered[name].get(tree)
            if known is not None:
                return known
            try:
                manifest = self.parsed(at(tree, MANIFEST_FILE), Manifest, layout.manifest_path(name))
            except InvalidInputError:
                return None
            return manifest.version if manifest is not None else None

        return last_changes(self.store, wanted, stages, version_of, models=models)

    def model_version(
        self,
        ref: VersionRef,
        record: ModelRecord | None = None,
        held: dict[str, int] | None = None,
        changes: Activity | None = None,
    ) -> ModelVersion:
        """The MLflow-shaped view of a version. ``changes`` (:meth:`activity` for this version
        among others) saves reading the history that dates its ``last_updated_timestamp``."""
        record = record or self.record(ref.name)
        stages = None
        if held is None:
            stages = self.stage_names()  # listed once, for the stages held and the history read
            held = self.stages_of(ref.name, stages, record=record)
        created = ref.manifest.provenance.created
        if changes is None:
            changes = self.activity({ref.name: {ref.version: created}}, {ref.name: record}, stages, models=False)
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
            last_updated_timestamp=changes.version(ref.name, ref.version, p.created),
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
        stages = self.stage_names()
        held = self.stages_of(name, stages, record=record)
        if numbers is None:
            numbers = self.version_numbers(name, record)
        refs = [self.version_ref(name, v, record=record) for v in numbers]
        return self.version_views(refs, {name: record}, {name: held}, stages)

    def version_views(
        self,
        refs: Sequence[VersionRef],
        records: Mapping[str, ModelRecord],
        held: Mapping[str, dict[str, int]],
        stages: Iterable[str] | None = None,
    ) -> list[ModelVersion]:
        """The views of ``refs`` (of any models: each one's record and stages given), dated by one
        read of the history for all of them."""
        wanted: dict[str, dict[int, int]] = {}
        for ref in refs:
            wanted.setdefault(ref.name, {})[ref.version] = ref.manifest.provenance.created
        changes = self.activity(wanted, records, stages, models=False)
        return [self.model_version(r, records[r.name], held[r.name], changes) for r in refs]

    def prefetch_models(self, names: Sequence[str], stages: Sequence[str]) -> None:
        """Fetch, in a few pipelined exchanges, what :meth:`get_model` reads
        for each of ``names``; use inside ``store.snapshot()``. Describing
        1,000 models then costs a handful of round trips to git instead of
        ~5,000, and entries of ``models/`` are fetched by id, not by path."""
        branches = (MAIN, *(layout.stage_ref(s) for s in stages))
        for branch in branches:
            yamls = [layout.record_path(n).split("/", 1)[1] for n in names] if branch == MAIN else []
            self.store.prefetch_entries(at(branch, layout.MODELS_DIR), [*yamls, *names])
        trees = [(n, at(branch, layout.version_dir(n))) for branch in branches for n in names]
        got = self.store.prefetch([spec for _, spec in trees])
        subtrees = [(n, g[0]) for (n, _), g in zip(trees, got, strict=True) if g and g[1] == "tree"]
        self.store.prefetch([at(tree, MANIFEST_FILE) for _, tree in subtrees])
        tags = []
        for n, tree in subtrees:
            try:
                manifest = self.parsed(at(tree, MANIFEST_FILE), Manifest, layout.manifest_path(n))
            except InvalidInputError:
                continue  # get_model reports it
            if manifest is not None:
                tag = layout.tag_ref(n, manifest.version)
                tags += [f"{tag}^{{commit}}", at(tag, layout.version_dir(n))]
        self.store.prefetch(tags)

    def get_model(self, name: str, *, stages: Iterable[str] | None = None) -> RegisteredModel:
        """The registered model ``name``. ``stages`` (the stage names, as
        :meth:`stage_names` lists them) saves listing the stage branches again
        when describing many models."""
        return self.get_models([name], stages=stages)[0]

    def get_models(
        self, names: Sequence[str], *, stages: Iterable[str] | None = None, failed: Failed | None = None
    ) -> list[RegisteredModel]:
        """The registered models ``names``, in order, dated by one read of the history for all of
        them (no git process per model). A model that cannot be described (missing, unreadable)
        raises, or with ``failed`` is passed to it and left out."""
        stages = self.stage_names() if stages is None else list(stages)
        parts: dict[str, ModelParts] = {}
        for name in names:
            try:
                parts[name] = self.model_parts(name, stages)
            except (NotFoundError, InvalidInputError, IntegrityError) as exc:
                if failed is None:
                    raise
                failed(name, exc)
        wanted = {n: {r.version: r.manifest.provenance.created for r in p.shown} for n, p in parts.items()}
        changes = self.activity(wanted, {n: p.record for n, p in parts.items()}, stages)
        return [self.model_view(name, p, changes) for name, p in parts.items()]

    def model_parts(self, name: str, stages: Iterable[str] | None = None) -> ModelParts:
        """The record, stages and shown versions (latest, then the fixed stages') of model ``name``."""
        record = self.record(name)
        held = self.stages_of(name, stages, record=record)
        shown: list[VersionRef] = []
        tree = self.store.tree_oid(at(MAIN, layout.version_dir(name)))
        if tree is not None:
            shown.append(self.latest_at(name, tree, record))
        numbers = {r.version for r in shown}
        for fixed in FIXED_STAGES:
            v = held.get(fixed.lower())
            if v is not None and v not in numbers:
                shown.append(self.version_ref(name, v, record=record))
                numbers.add(v)
        return ModelParts(record, held, shown)

    def model_view(self, name: str, parts: ModelParts, changes: Activity) -> RegisteredModel:
        """The MLflow-shaped view of a model: ``last_updated_timestamp`` is its newest commit
        (a stage move or an alias is a commit on a stage branch, not on main), never older than
        its creation or its shown versions' registrations."""
        record, held = parts.record, parts.held
        latest = [self.model_version(r, record, held, changes) for r in parts.shown]
        floor = max([record.created, *(v.creation_timestamp for v in latest)])
        return RegisteredModel(
            name=record.name,
            description=record.description,
            tags=dict(record.tags),
            creation_timestamp=record.created,
            last_updated_timestamp=changes.model(name, floor),
            latest_versions=latest,
            aliases={display_stage(s): v for s, v in sorted(held.items())},
        )
