"""Many models at a glance, read in a batch: what a models listing needs.

``Registry.get_model`` answers for one model (a few object reads plus one
``for-each-ref`` of the stage branches). A listing of 1,000 models must not
pay that per model, so this reads ``main:models`` and each stage branch's
``models`` tree once, then one record and one manifest per listed model;
a stage's version is read from its manifest only when its subtree differs
from the latest version's, and each distinct subtree is read once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from gitreg import filters
from gitreg.errors import GitregError
from gitreg.manifest import MANIFEST_FILE, Manifest, ModelRecord
from gitreg.registry import MAIN, STAGE_PREFIX, Registry
from gitreg.registry.layout import record_path


@dataclass(frozen=True)
class ModelSummary:
    """One registered model as a listing shows it."""

    name: str
    description: str
    tags: dict[str, str]
    created: int  # ms
    latest: int | None  # latest version number, None if it has none yet
    latest_created: int | None  # ms
    stages: dict[str, int] = field(default_factory=dict)  # canonical stage -> version
    changed: int | None = None  # ms: the newest commit that touched the model (:mod:`gitreg.registry.activity`)

    @property
    def last_change(self) -> int:
        """When the model last changed (ms): a registration, a record change, a stage move or an alias."""
        return max(self.created, self.latest_created or 0, self.changed or 0)


def summaries(registry: Registry, names: Iterable[str]) -> list[ModelSummary]:
    """Summaries of ``names`` (in that order), skipping names that vanished or
    whose files are unreadable, so one bad model does not hide the rest.

    Stage versions are read as :meth:`Registry.stages_of` reads them (the
    manifest in the stage's subtree); ``gitreg check`` verifies them. The
    times of the last changes come from one read of the history for all.
    """
    store = registry.store
    main_models = store.read_tree(f"{MAIN}:models") or {}
    stage_models: dict[str, dict[str, str]] = {}
    for ref, oid in store.ref_oids(STAGE_PREFIX).items():
        tree = store.read_tree(f"{oid}:models") or {}
        stage_models[ref[len(STAGE_PREFIX) :]] = {e.name: e.oid for e in tree.values() if e.is_tree}
    version_of_tree: dict[str, int | None] = {}

    parse = registry.reader.parsed  # immutable blobs: each parsed once per process, by blob id

    def version_in(tree: str, where: str) -> int | None:
        if tree not in version_of_tree:
            try:
                manifest = parse(f"{tree}:{MANIFEST_FILE}", Manifest, where)
                version_of_tree[tree] = manifest.version if manifest is not None else None
            except GitregError:
                version_of_tree[tree] = None
        return version_of_tree[tree]

    out = []
    for name in names:
        record_entry = main_models.get(f"{name}.yaml")
        if record_entry is None:
            continue
        try:
            record = parse(record_entry.oid, ModelRecord, record_path(name))
        except GitregError:
            continue
        if record is None:
            continue
        latest = latest_created = None
        latest_entry = main_models.get(name)
        if latest_entry is not None and latest_entry.is_tree:
            try:
                manifest = parse(f"{latest_entry.oid}:{MANIFEST_FILE}", Manifest, f"main:models/{name}/{MANIFEST_FILE}")
            except GitregError:
                manifest = None
            if manifest is not None:
                latest, latest_created = manifest.version, manifest.provenance.created
                version_of_tree[latest_entry.oid] = latest
        stages = _stage_versions(name, stage_models, version_in)
        out.append(
            ModelSummary(
                name=record.name,
                description=record.description,
                tags=dict(record.tags),
                created=record.created,
                latest=latest,
                latest_created=latest_created,
                stages=stages,
            )
        )
    changes = registry.reader.activity({m.name: {} for m in out}, {})
    return [replace(m, changed=changes.models.get(m.name)) for m in out]


def _stage_versions(
    name: str, stage_models: dict[str, dict[str, str]], version_in: Callable[[str, str], int | None]
) -> dict[str, int]:
    """stage -> the version of ``name`` its subtree holds, for the stages that hold one."""
    stages = {}
    for stage, trees in sorted(stage_models.items()):
        subtree = trees.get(name)
        if subtree is not None:
            v = version_in(subtree, f"stages/{stage}:models/{name}/{MANIFEST_FILE}")
            if v is not None:
                stages[stage] = v
    return stages


def records(registry: Registry, names: Iterable[str]) -> dict[str, ModelRecord]:
    """The mutable records of ``names`` (to filter by tag), one blob read each."""
    store = registry.store
    main_models = store.read_tree(f"{MAIN}:models") or {}
    out = {}
    for name in names:
        entry = main_models.get(f"{name}.yaml")
        try:
            record = registry.reader.parsed(entry.oid, ModelRecord, record_path(name)) if entry else None
        except GitregError:
            continue
        if record is not None:
            out[name] = record
    return out


def search(registry: Registry, query: str | None) -> list[str]:
    """Model names matching ``query``, sorted.

    An MLflow filter (``name LIKE 'iris%' AND tags.team = 'ml'``) is applied
    as MLflow applies it; any other text matches, case-insensitively, a
    substring of the name or of a tag key or value. Raises
    :class:`InvalidInputError` for a filter that does not parse.
    """
    names = registry.model_names()
    query = (query or "").strip()
    if not query:
        return names
    if _looks_like_filter(query):
        clauses = filters.parse(query)
        by_name = [c for c in clauses if c.key == "name"]
        names = [n for n in names if filters.matcher(by_name, {"name": n}.get)]
        if len(by_name) == len(clauses):
            return names
        found = records(registry, names)
        return [n for n, rec in found.items() if filters.matcher(clauses, _fields_of(rec))]
    needle = query.lower()
    hits = [n for n in names if needle in n.lower()]
    rest = [n for n in names if needle not in n.lower()]
    for name, rec in records(registry, rest).items():
        if any(needle in k.lower() or needle in v.lower() for k, v in rec.tags.items()):
            hits.append(name)
    return sorted(hits, key=str.lower)


def _fields_of(record: ModelRecord) -> Callable[[str], str | None]:
    """What a filter clause's key reads from a model: its name or a tag."""

    def get(key: str) -> str | None:
        if key == "name":
            return record.name
        return record.tags.get(key[5:]) if key.startswith("tags.") else None

    return get


def _looks_like_filter(query: str) -> bool:
    return re.search(r"(=|\bI?LIKE\b)\s*['\"]", query, re.IGNORECASE) is not None
