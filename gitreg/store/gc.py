"""Keeping a repository's object storage bounded, without losing anything a ref or a writer needs.

Two cases, both git-only:

- :func:`prune_mirror`: a partial clone (a mirror of a remote) holds the
  blobs it was asked for and the ones its writers wrote. A blob a ref
  reaches is on the remote too (a mirror's refs move only after the remote
  accepted), so when nobody needs it locally it can go: it is fetched again
  if it is ever read. The mirror's commits, trees and tags all stay, and so
  does every object no ref reaches (a write in flight in another process).
  Whatever is kept of the remote's objects is repacked into one promisor
  pack, so git keeps treating what it lacks as the remote's to send.
- :func:`maintain`: an ordinary repository gets ``git gc`` that never prunes
  a reachable object, keeps every reflog entry (gitreg reads them to tell a
  reset ``main``), and prunes unreachable objects only after two weeks, long
  after any writer that made them finished.

Both refuse while a ref lock is held: a write is in progress.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gitreg.errors import ConflictError
from gitreg.store.repo import GitStore

_PACK_FILES = (".pack", ".idx", ".rev", ".bitmap", ".promisor", ".keep", ".mtimes")


@dataclass(frozen=True)
class Collected:
    """What a collection did: the bytes of the object storage before and after, the blobs dropped."""

    before: int
    after: int
    dropped: int


def storage_bytes(git_dir: Path) -> int:
    """Bytes under ``objects/`` (loose objects and packs)."""
    total = 0
    for root, _, files in os.walk(git_dir / "objects"):
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
    reachable object nor a reflog entry; unreachable objects only when two weeks old."""
    refuse_while_written(store)
    before = storage_bytes(store.git_dir)
    store.git(
        "gc",
        "--quiet",
        "--prune=2.weeks.ago",
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


def _present_types(store: GitStore) -> dict[str, str]:
    """Every object present in the repository and its type, fetching nothing."""
    out = store.git("cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)")
    return dict(line.split(" ", 1) for line in out.decode().splitlines() if " " in line)


def _reachable(store: GitStore) -> set[str]:
    """Objects present and reachable from any ref, fetching nothing."""
    out = store.git("rev-list", "--objects", "--all", "--missing=allow-any")
    return {line[:40] for line in out.decode().splitlines() if line and not line.startswith("?")}


def prune_mirror(store: GitStore, keep: Iterable[str]) -> Collected:
    """Drop from a partial clone every blob a ref reaches that is not in ``keep``.

    The remote's objects that stay (those in promisor packs, and the ones a
    ref reaches) go into one new promisor pack; packs and loose objects no
    ref fully reaches are left as they are. The new pack is in place before
    anything it replaces is removed, so a reader never misses an object."""
    refuse_while_written(store)
    before = storage_bytes(store.git_dir)
    packs, loose = _objects_by_home(store)
    types, reachable = _present_types(store), _reachable(store)
    wanted = set(keep)
    drop = {o for o in reachable if types.get(o) == "blob" and o not in wanted}
    absorbed_packs = [
        idx for idx, ids in packs.items() if idx.with_suffix(".promisor").exists() or reachable.issuperset(ids)
    ]
    absorbed_loose = [o for o in loose if o in reachable]
    absorbed = {o for idx in absorbed_packs for o in packs[idx]} | set(absorbed_loose)
    dropped = len(drop & absorbed)
    if not dropped:
        return Collected(before, before, 0)
    made = _write_promisor_pack(store, sorted(o for o in absorbed - drop if o in types))
    for idx in absorbed_packs:
        if idx.stem != made:  # the same objects make the same pack name
            for suffix in _PACK_FILES:
                idx.with_suffix(suffix).unlink(missing_ok=True)
    for oid in absorbed_loose:
        loose[oid].unlink(missing_ok=True)
    return Collected(before, storage_bytes(store.git_dir), dropped)


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
