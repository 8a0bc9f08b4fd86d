"""A registry named by a git URL: read from a local mirror, fetched on demand;
written through the mirror and pushed as one compare-and-swap.

Writes need nothing here: :class:`gitreg.store.remote.MirrorStore` makes every
ref transaction an atomic, leased push, and a rejected push surfaces as
``RefConflict``, on which the registry's one write loop re-plans on the newly
fetched heads. What this module adds is a :class:`FetchWithin` freshness
policy, composed into an ordinary :class:`~gitreg.registry.Registry`:

- an immutable version (``models:/M/3``) fetches only if its tag is not in the
  mirror yet, so loading the same version again fetches nothing;
- everything that can move (stages, aliases, latest, model lists, metadata)
  fetches at most once per :data:`FRESH_SECONDS` per process, so one command
  or one burst of calls in a serving process costs one round trip;
- every write fetches first (within the same window), so it is planned on
  current heads and its push is rarely refused;
- when the remote cannot be reached, reads go on from the mirror and one
  warning says so.

The mirror is a partial clone: a fetch brings refs, commits and trees, plus
(:func:`metadata_specs`, one batch) the small files every listing reads.
Artifacts come only when a version is materialised (:mod:`gitreg.cache`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from gitreg.errors import GitError, NotFoundError
from gitreg.registry import Registry, layout
from gitreg.registry.freshness import Freshness
from gitreg.store import GitStore, lfs
from gitreg.store import gc as store_gc
from gitreg.store.remote import MirrorStore, RemoteUnreachable

FRESH_SECONDS = float(os.environ.get("GITREG_FETCH_TTL", "2"))
log = logging.getLogger("gitreg")


def metadata_specs(store: GitStore, moved: Mapping[str, str]) -> list[str]:
    """The blobs a partial mirror fetches together with the refs ``moved``: what
    listings read, a few hundred bytes per version. A version tag brings its
    manifest; main and each stage branch their ``registry.yaml`` and every
    record and manifest under ``models/``, and main its ``.lfsconfig`` (git-lfs reads it on every
    command: missing, each would fetch it first). Artifacts are left for the load."""
    specs = []
    for ref in moved:
        tag = layout.parse_tag(ref) if ref.startswith(layout.TAG_PREFIX) else None
        if tag is not None:
            specs.append(layout.at(ref, layout.manifest_path(tag[0])))
        elif ref == layout.MAIN or layout.stage_of(ref) is not None:
            specs.append(layout.at(ref, layout.CONFIG_FILE))
            if ref == layout.MAIN:  # a mirror's HEAD: what every git-lfs command reads first
                specs.append(lfs.CONFIG_SPEC)
            for entry in (store.read_tree(layout.at(ref, layout.MODELS_DIR)) or {}).values():
                if entry.is_tree:
                    specs.append(layout.at(ref, layout.manifest_path(entry.name)))
                elif (name := layout.record_name(entry.name)) is not None:
                    specs.append(layout.at(ref, layout.record_path(name)))
    return specs


class FetchWithin(Freshness):
    """Fetch the mirror at most once per ``ttl`` seconds before reading what can move."""

    def __init__(self, store: MirrorStore, ttl: float = FRESH_SECONDS) -> None:
        self.store = store
        self.ttl = ttl
        self.fetched_at = float("-inf")
        self._warned = False

    def moving(self) -> None:
        if time.monotonic() - self.fetched_at >= self.ttl:
            self.force()

    def immutable(self, ref: str) -> None:
        if self.store.read(ref) is None:
            self.moving()

    def before_write(self) -> None:
        """Fetch what a lost push named (narrowly, whatever the window), else as :meth:`moving` does."""
        try:
            if self.store.fetch_contended():
                return
        except GitError as exc:
            self._warn(exc)
        self.moving()

    def force(self) -> None:
        try:
            self.store.fetch()
        except GitError as exc:
            self._warn(exc)
        self.fetched_at = time.monotonic()

    def _warn(self, exc: GitError) -> None:
        """Once: a fetch failed (unreachable, or a ref locked by a process sharing the mirror)."""
        if not self._warned:
            log.warning("%s; using the local mirror as last fetched.", exc)
            self._warned = True


class RemoteRegistry(Registry):
    """A registry whose store is a mirror of a remote URL and whose freshness fetches it."""

    store: MirrorStore
    fresh: FetchWithin

    def __init__(self, store: MirrorStore) -> None:
        super().__init__(store, FetchWithin(store))

    def __repr__(self) -> str:
        return f"RemoteRegistry({self.url!r})"

    @property
    def url(self) -> str:
        return self.store.url

    @property
    def _fetched_at(self) -> float:
        return self.fresh.fetched_at

    @_fetched_at.setter
    def _fetched_at(self, value: float) -> None:
        self.fresh.fetched_at = value

    @classmethod
    def open_url(cls, url: str) -> RemoteRegistry:
        """Open the registry at ``url`` through its mirror under the cache directory."""
        from gitreg.cache import cache_root
        from gitreg.store.remote import mirror_dir

        cloned = not (mirror_dir(cache_root(), url) / "HEAD").is_file()
        try:
            store = MirrorStore.open_mirror(cache_root(), url, eager=metadata_specs)
        except RemoteUnreachable as exc:
            raise RemoteUnreachable(f"{exc} (and there is no local mirror of it to work from).") from None
        registry = cls(store)
        if cloned:
            registry.fresh.fetched_at = time.monotonic()
        if not registry.reader.is_registry():
            registry.refresh(force=True)
        registry.check_is_registry()
        return registry

    def refresh(self, *, force: bool = False) -> None:
        """Fetch unless this process fetched less than FRESH_SECONDS ago (``force``: fetch now)."""
        if force:
            self.fresh.force()
        else:
            self.fresh.moving()

    def check_is_registry(self) -> None:
        if not self.reader.is_registry():
            raise NotFoundError(
                f"{self.url} is not a gitreg registry (no registry.yaml on its main branch). "
                "Create one with 'gitreg init --bare PATH' and push it there."
            )


@dataclass(frozen=True)
class Collected:
    """What ``gitreg gc`` did to one registry."""

    location: str
    kind: str  # "mirror" (a URL registry's partial mirror) or "repository"
    before: int
    after: int
    dropped: int
    lfs_dropped: int = 0

    def describe(self) -> str:
        """One line: what was collected, the bytes freed, before and after."""
        what = "packed"
        if self.kind == "mirror":
            what = f"dropped {self.dropped} blob(s) and {self.lfs_dropped} LFS object(s) no longer needed locally"
        freed = self.before - self.after
        return f"{self.kind} {self.location}: {what}; freed {freed:,} bytes ({self.before:,} -> {self.after:,})."


def collect_garbage(registry: Registry) -> Collected:
    """``gitreg gc``: keep ``registry``'s git storage bounded.

    A URL registry's mirror gains the blobs of every version loaded or
    registered through it; it keeps what its reads use without the network
    (listings' metadata, the versions materialised in the cache, the version
    each stage holds, which a server following it loads next) and drops the
    other blobs, which are on the remote and come back when read
    (:func:`gitreg.store.gc.prune_mirror`). A local registry gets git's own
    maintenance, which never prunes a reachable object
    (:func:`gitreg.store.gc.maintain`).
    ConflictError (and nothing done) while a write is moving its refs."""
    if isinstance(registry, RemoteRegistry):
        done = store_gc.prune_mirror(registry.store, needed_blobs(registry.store))
        return Collected(registry.url, "mirror", done.before, done.after, done.dropped, done.lfs_dropped)
    done = store_gc.maintain(registry.store)
    return Collected(str(registry.path), "repository", done.before, done.after, done.dropped)


def needed_blobs(store: GitStore) -> set[str]:
    """The blobs a mirror keeps: listings' metadata, versions in the cache, versions in a stage."""
    from gitreg.cache import cache_root

    refs = store.ref_oids(layout.BRANCH_PREFIX) | store.ref_oids(layout.TAG_PREFIX)
    keep = set(store.blob_ids(metadata_specs(store, refs)))
    cached = {p.name for p in (cache_root() / "models").glob("*") if p.is_dir()}
    for tree in _version_trees(store, refs) & cached | _stage_trees(store, refs):
        keep.update(store.tree_blobs(tree))
    return keep


def _version_trees(store: GitStore, refs: dict[str, str]) -> set[str]:
    """The subtree of every version tag among ``refs``."""
    specs = []
    for ref in refs:
        tag = layout.parse_tag(ref) if ref.startswith(layout.TAG_PREFIX) else None
        if tag is not None:
            specs.append(layout.at(ref, layout.version_dir(tag[0])))
    return {got[0] for got in store.prefetch(specs) if got and got[1] == "tree"} if specs else set()


def _stage_trees(store: GitStore, refs: dict[str, str]) -> set[str]:
    """The version subtrees every stage branch among ``refs`` holds."""
    trees = set()
    for ref in refs:
        if layout.stage_of(ref) is not None:
            for entry in (store.read_tree(layout.at(ref, layout.MODELS_DIR)) or {}).values():
                if entry.is_tree:
                    trees.add(entry.oid)
    return trees
