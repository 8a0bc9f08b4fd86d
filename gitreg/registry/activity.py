"""When a registered model, and each of its versions, last changed: the newest registry commits that touched them.

Every change is a commit. A registration, a tag, a description or a deletion changes
``models/<name>.yaml`` on main; a stage move or an alias changes ``models/<name>/`` on a stage
branch. So a model's ``last_updated_timestamp`` is the newest first-parent commit on main or a
stage branch that touched either path. A version's is the newest of its registration, the last
change of its notes (a commit on main whose subject is :func:`notes_subject`: the record keeps no
time of its own) and the last stage-branch commit whose ``models/<name>/`` went from or to the
version's subtree (into or out of a stage or alias, however it was made: a promotion, a merged
pull request, a revert). Git records commit times in whole seconds.

Walking main's history costs a read of the whole ``models/`` tree per commit (half a second over
1,000 commits of a 1,000-model registry), so what a walk finds is kept, per branch and keyed by
the commit it reached, in ``gitreg-activity.json`` in the git directory: a later question walks
only the commits added since (``tip..head``), and a branch rewritten (not a fast-forward) is
walked again from scratch. The file is derived data: deleting it costs one full walk. A registry
whose git directory cannot be written is walked each time. A branch that no longer exists (an
alias deleted with its branch, which leaves no commit) keeps its times in the file, so they
never go back; a walk from scratch (no file yet) cannot know them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitreg.registry import layout
from gitreg.registry.layout import MAIN
from gitreg.store import GitStore
from gitreg.store.changes import ChangedCommit, changed_commits

#: model name, ``models/<name>/`` subtree id -> the version that subtree is, if known
VersionOf = Callable[[str, str], int | None]

INDEX_FILE = "gitreg-activity.json"
_FORMAT = 1
_NOTES = re.compile(r"Update metadata of (?P<name>\S+) version (?P<version>[1-9][0-9]*)\Z")


def notes_subject(name: str, version: int) -> str:
    """The subject of the commit that changes a version's description or tags: what dates the change."""
    return f"Update metadata of {name} version {version}"


@dataclass
class Activity:
    """The newest change times found (ms since the epoch); absent: none in the history read."""

    models: dict[str, int] = field(default_factory=dict)
    versions: dict[tuple[str, int], int] = field(default_factory=dict)

    def model(self, name: str, floor: int) -> int:
        """Model ``name``'s last change, never older than ``floor`` (what its own files say)."""
        return max(floor, self.models.get(name, 0))

    def version(self, name: str, version: int, created: int) -> int:
        """Version ``version``'s last change: its creation or a later change of notes or stages."""
        return max(created, self.versions.get((name, version), 0))

    def add(self, other: Activity) -> None:
        """Keep the newer of each time."""
        for name, ms in other.models.items():
            self.models[name] = max(ms, self.models.get(name, 0))
        for key, ms in other.versions.items():
            self.versions[key] = max(ms, self.versions.get(key, 0))


@dataclass
class _Branch:
    """What one branch's history says, up to commit ``tip``."""

    tip: str
    found: Activity


def last_changes(
    store: GitStore,
    wanted: Mapping[str, Mapping[int, int]],
    stages: Iterable[str] | None,
    version_of: VersionOf,
    *,
    models: bool = True,
) -> Activity:
    """The last changes of the models in ``wanted`` and of the versions it maps each to (version
    -> its creation, ms; the creation is the floor :meth:`Activity.version` applies), from main
    and the branches of ``stages`` (None: every stage branch). Walks only the commits the index
    has not seen. ``models`` False: the caller needs only the versions' times."""
    names = set(wanted)
    if not names or not (models or any(wanted.values())):
        return Activity()
    index = _load(store)
    moved = False
    for ref, tip in _tips(store, stages).items():
        known = index.get(ref)
        if known is not None and known.tip == tip:
            continue
        index[ref] = _walk(store, ref, tip, known, version_of)
        moved = True
    if moved:
        _save(store, index)
    found = Activity()
    for branch in index.values():
        found.add(_only(branch.found, names))
    return found


def _tips(store: GitStore, stages: Iterable[str] | None) -> dict[str, str]:
    """Main's and each stage branch's commit now."""
    tips: dict[str, str] = {}
    main = store.ref(MAIN)
    if main is not None:
        tips[MAIN] = main
    if stages is None:
        listed = store.ref_oids(layout.STAGE_PREFIX)
        tips.update({ref: oid for ref, oid in listed.items() if layout.stage_of(ref)})
        return tips
    for stage in stages:
        oid = store.ref(layout.stage_ref(stage))
        if oid is not None:
            tips[layout.stage_ref(stage)] = oid
    return tips


def _walk(store: GitStore, ref: str, tip: str, known: _Branch | None, version_of: VersionOf) -> _Branch:
    """Branch ``ref``'s times up to ``tip``: from ``known`` on when ``tip`` is a fast-forward of it."""
    if known is not None and not store.is_ancestor(known.tip, tip):
        known = None  # rewritten: what it said may no longer be history
    revs = [f"{known.tip}..{tip}"] if known is not None else [tip]
    fresh = Activity()
    for commit in changed_commits(store, revs, [layout.MODELS_DIR]):
        _note(commit, ref == MAIN, version_of, fresh)
    if known is not None:
        merged = Activity(dict(known.found.models), dict(known.found.versions))
        merged.add(fresh)
        fresh = merged
    return _Branch(tip, fresh)


def _note(commit: ChangedCommit, on_main: bool, version_of: VersionOf, found: Activity) -> None:
    """Record what ``commit`` changed: the first (newest) time seen wins."""
    ms = commit.time * 1000
    touched = {n for n in map(_model_of, (c.path for c in commit.changes)) if n}
    for name in touched:
        found.models.setdefault(name, ms)
    if on_main:
        notes = _NOTES.match(commit.subject)
        if notes and notes.group("name") in touched:
            found.versions.setdefault((notes.group("name"), int(notes.group("version"))), ms)
        return
    prefix = layout.MODELS_DIR + "/"
    for change in commit.changes:
        name = change.path[len(prefix) :]
        if change.path.startswith(prefix) and name in touched:
            for tree in (change.old, change.new):
                version = version_of(name, tree) if tree else None
                if version is not None:
                    found.versions.setdefault((name, version), ms)


def _model_of(path: str) -> str | None:
    """The model a path under ``models/`` belongs to (its record or its version directory)."""
    prefix = layout.MODELS_DIR + "/"
    if not path.startswith(prefix):
        return None
    entry = path[len(prefix) :].split("/", 1)[0]
    return layout.record_name(entry) or entry


def _only(found: Activity, names: set[str]) -> Activity:
    return Activity(
        {n: ms for n, ms in found.models.items() if n in names},
        {k: ms for k, ms in found.versions.items() if k[0] in names},
    )


# -- the index file -------------------------------------------------------------------------


def _load(store: GitStore) -> dict[str, _Branch]:
    """The index, or nothing if it is missing or unreadable (it is rebuilt from the history)."""
    try:
        data = json.loads((store.git_dir / INDEX_FILE).read_text())
        if data.get("format") != _FORMAT:
            return {}
        return {ref: _branch(entry) for ref, entry in data["branches"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _branch(entry: dict[str, Any]) -> _Branch:
    versions = {(n, int(v)): int(ms) for n, vs in entry["versions"].items() for v, ms in vs.items()}
    return _Branch(str(entry["tip"]), Activity({str(n): int(ms) for n, ms in entry["models"].items()}, versions))


def _save(store: GitStore, index: dict[str, _Branch]) -> None:
    """Write the index atomically; a registry that cannot be written is simply walked next time."""
    branches: dict[str, Any] = {}
    for ref, branch in index.items():
        versions: dict[str, dict[str, int]] = {}
        for (name, v), ms in branch.found.versions.items():
            versions.setdefault(name, {})[str(v)] = ms
        branches[ref] = {"tip": branch.tip, "models": branch.found.models, "versions": versions}
    text = json.dumps({"format": _FORMAT, "branches": branches}, separators=(",", ":"), sort_keys=True)
    import tempfile  # only a process whose history moved writes

    try:
        fd, tmp = tempfile.mkstemp(dir=store.git_dir, prefix=INDEX_FILE, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # readable by whoever reads the registry, as git's own files are
        os.replace(tmp, store.git_dir / INDEX_FILE)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


__all__ = ["INDEX_FILE", "Activity", "VersionOf", "last_changes", "notes_subject"]
