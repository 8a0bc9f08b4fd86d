"""Keeping a repository's object storage bounded, without losing anything a ref or a writer needs.

Two cases:

- :func:`prune_mirror`: a partial clone (a mirror of a remote) holds the
  blobs it was asked for and the ones its writers wrote. A blob a ref
  reaches is on the remote too (a mirror's refs move only after the remote
  accepted), so when nobody needs it locally it can go: it is fetched again
  if it is ever read. The mirror's commits, trees and tags all stay, and so
  does every object no ref reaches (a write in flight in another process).
  Whatever is kept of the remote's objects is repacked into one promisor
  pack, so git keeps treating what it lacks as the remote's to send.
  Its Git LFS objects follow the same rule (:func:`_prune_lfs`): an object
  named by a kept pointer blob stays; one named by a pointer a ref reaches
  is on the LFS server (writes upload objects before the refs that name
  them) and goes; any other (a write's, not uploaded yet) stays until it is
  :data:`GRACE_DAYS` old. The blob git-lfs reads on every command
  (``HEAD:.lfsconfig``) always stays, or each command would fetch it again.
- :func:`maintain`: an ordinary repository gets ``git gc`` that never prunes
  a reachable object, keeps every reflog entry (gitreg reads them to tell a
  reset ``main``), and prunes unreachable objects only after two weeks, long
  after any writer that made them finished.

Both refuse while a ref lock is held: a write is in progress.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gitreg.errors import ConflictError
from gitreg.store import lfs
from gitreg.store.repo import GitStore

_PACK_FILES = (".pack", ".idx", ".rev", ".bitmap", ".promisor", ".keep", ".mtimes")
#: How long an object nothing accounts for is kept: git's own ``gc.pruneExpire`` default,
#: long after any write that made it finished (or failed).
GRACE_DAYS = 14
GRACE_SECONDS = GRACE_DAYS * 24 * 3600


@dataclass(frozen=True)
class Collected:
    """What a collection did: the bytes of the object storage (git's and Git LFS's)
    before and after, the blobs dropped, the LFS objects deleted and their bytes."""

    before: int
    after: int
    dropped: int
    lfs_dropped: int = 0
    lfs_freed: int = 0


def storage_bytes(git_dir: Path) -> int:
    """Bytes under ``objects/`` (loose objects and packs) and ``lfs/objects/`` (Git LFS objects)."""
    total = 0
    for top in (git_dir / "objects", git_dir / "lfs" / "objects"):
        for root, _, files in os.walk(top):
            for name in files:
                try:
                    total += (Path(root) / name).stat().st_size
                except OSError:
                    pass  # removed meanwhile
    return total


def refuse_while_written(store: GitStore) -> None:
    """ConflictError if a ref lock is held: some process is moving refs in this repository now."""
    held = [p for p in (store.git_dir / "refs").rglob("*.lock")]
    held += [p for p in (store.git_dir / "packed-refs.lock", store.git_dir / "HEAD.lock") if p.exists()]
    if held:
        raise ConflictError(
            f"{store.git_dir} is being written ({held[0].relative_to(store.git_dir)} is locked); nothing was "
            "collected. Run it again when the write has finished (a lock left by a killed writer is cleared by "
            "the next write)."
        )


def maintain(store: GitStore) -> Collected:
    """``git gc`` on an ordinary repository: packs objects and refs; never prunes a
    reachable object nor a reflog entry; unreachable objects only when :data:`GRACE_DAYS` old.
    Its LFS objects are its own (no remote holds them): none is touched."""
    refuse_while_written(store)
    before = storage_bytes(store.git_dir)
    store.git(
        "gc",
        "--quiet",
        f"--prune={GRACE_DAYS}.days.ago",
        config=["gc.reflogExpire=never", "gc.reflogExpireUnreachable=never", "gc.autoDetach=false"],
    )
    return Collected(before, storage_bytes(store.git_dir), 0)


def _objects_by_home(store: GitStore) -> tuple[dict[Path, list[str]], dict[str, Path]]:
    """Each pack's object ids (by its ``.idx``), and each loose object's file."""
    packs = {idx: _pack_ids(store, idx) for idx in sorted((store.git_dir / "objects" / "pack").glob("*.idx"))}
    loose: dict[str, Path] = {}
    for sub in (store.git_dir / "objects").glob("[0-9a-f][0-9a-f]"):
        for f in sub.iterdir():
            if len(f.name) == 38:
                loose[sub.name + f.name] = f
    return packs, loose


def _pack_ids(store: GitStore, idx: Path) -> list[str]:
    out = store.git("show-index", input=idx.read_bytes())
    return [line.split()[1] for line in out.decode().splitlines() if line.strip()]


def _present_types(store: GitStore) -> dict[str, tuple[str, int]]:
    """Every object present in the repository, its type and size, fetching nothing."""
    out = store.git("cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype) %(objectsize)")
    found = {}
    for line in out.decode().splitlines():
        oid, kind, size = line.split(" ")
        found[oid] = (kind, int(size))
    return found


def _reachable(store: GitStore) -> set[str]:
    """Objects present and reachable from any ref, fetching nothing."""
    out = store.git("rev-list", "--objects", "--all", "--missing=allow-any")
    return {line[:40] for line in out.decode().splitlines() if line and not line.startswith("?")}


def prune_mirror(store: GitStore, keep: Iterable[str]) -> Collected:
    """Drop from a partial clone every blob a ref reaches that is not in ``keep``,
    and every Git LFS object no blob in ``keep`` points at that the LFS server
    holds or that is older than :data:`GRACE_DAYS`.

    The remote's objects that stay (those in promisor packs, and the ones a
    ref reaches) go into one new promisor pack; packs and loose objects no
    ref fully reaches are left as they are. The new pack is in place before
    anything it replaces is removed, so a reader never misses an object.
    LFS pointers are read before any blob goes, from what is present."""
    refuse_while_written(store)
    before = storage_bytes(store.git_dir)
    types, reachable = _present_types(store), _reachable(store)
    wanted = set(keep) | set(store.blob_ids([lfs.CONFIG_SPEC]))
    pointers = _pointers(store, {o for o in reachable | wanted if _may_point(types.get(o))})
    needed = {p.sha256 for o, p in pointers.items() if o in wanted}
    published = {p.sha256 for o, p in pointers.items() if o in reachable}
    dropped = _drop_blobs(store, types, reachable, wanted)
    lfs_dropped, lfs_freed = _prune_lfs(store, needed, published)
    after = storage_bytes(store.git_dir) if dropped or lfs_dropped else before
    return Collected(before, after, dropped, lfs_dropped, lfs_freed)


def _may_point(found: tuple[str, int] | None) -> bool:
    """Whether an object of this (type, size) can be an LFS pointer."""
    return found is not None and found[0] == "blob" and found[1] <= lfs.MAX_POINTER


def _pointers(store: GitStore, blobs: set[str]) -> dict[str, lfs.Pointer]:
    """The LFS pointers among ``blobs`` (all present: nothing is fetched), by blob id."""
    oids = sorted(blobs)
    found = {}
    for oid, got in zip(oids, store.prefetch(oids) if oids else [], strict=True):
        pointer = lfs.parse_pointer(got[2]) if got else None
        if pointer is not None:
            found[oid] = pointer
    return found


def _drop_blobs(store: GitStore, types: dict[str, tuple[str, int]], reachable: set[str], wanted: set[str]) -> int:
    """Repack the remote's objects (``types``: those present) without the reachable
    blobs not ``wanted``; how many blobs went."""
    packs, loose = _objects_by_home(store)
    drop = {o for o in reachable if o not in wanted and types.get(o, ("",))[0] == "blob"}
    absorbed_packs = [
        idx for idx, ids in packs.items() if idx.with_suffix(".promisor").exists() or reachable.issuperset(ids)
    ]
    absorbed_loose = [o for o in loose if o in reachable]
    absorbed = {o for idx in absorbed_packs for o in packs[idx]} | set(absorbed_loose)
    dropped = len(drop & absorbed)
    if not dropped:
        return 0
    made = _write_promisor_pack(store, sorted(o for o in absorbed - drop if o in types))
    for idx in absorbed_packs:
        if idx.stem != made:  # the same objects make the same pack name
            for suffix in _PACK_FILES:
                idx.with_suffix(suffix).unlink(missing_ok=True)
    for oid in absorbed_loose:
        loose[oid].unlink(missing_ok=True)
    return dropped


def _prune_lfs(store: GitStore, needed: set[str], published: set[str]) -> tuple[int, int]:
    """Delete the LFS objects not ``needed`` that are ``published`` (the LFS server has
    them) or unmodified for :data:`GRACE_DAYS` (so not a write's in flight: writing
    an object, or finding it already there, touches it). (objects deleted, bytes)."""
    now, dropped, freed = time.time(), 0, 0
    for path in lfs.object_paths(store):
        if path.name in needed:
            continue
        try:
            st = path.stat()
            if path.name not in published and now - st.st_mtime < GRACE_SECONDS:
                continue
            path.unlink()
        except OSError:
            continue  # removed meanwhile, or not ours to remove: kept
        dropped, freed = dropped + 1, freed + st.st_size
        for parent in (path.parent, path.parent.parent):
            with contextlib.suppress(OSError):
                parent.rmdir()  # only if empty
    return dropped, freed


def _write_promisor_pack(store: GitStore, oids: list[str]) -> str:
    """Pack ``oids`` into ``objects/pack`` as a promisor pack (its ``.promisor``
    marker in place before its index); return its name (``pack-<hash>``)."""
    pack_dir = store.git_dir / "objects" / "pack"
    with tempfile.TemporaryDirectory(prefix=".gc-", dir=pack_dir) as tmp:
        digest = store.git(
            "pack-objects", "-q", str(Path(tmp) / "pack"), input="".join(f"{o}\n" for o in oids).encode()
        )
        base = f"pack-{digest.decode().strip()}"
        (pack_dir / f"{base}.promisor").write_bytes(b"")
        for suffix in (".pack", ".rev", ".idx"):  # the .idx last: git finds packs by their index
            made = Path(tmp) / f"{base}{suffix}"
            if made.exists():
                os.replace(made, pack_dir / f"{base}{suffix}")
    return base
