"""What a branch used to hold: the one question gitreg asks of git's reflog."""

from __future__ import annotations

from gitreg.errors import GitError
from gitreg.store.repo import ZERO_OID, GitStore


def _former_values(store: GitStore, ref: str) -> set[str]:
    """The values ``ref`` held before a logged move: each reflog entry's *old* side.

    Not the new side: git appends the entry before it renames the ref's lock
    into place, so a process killed between the two leaves an entry whose new
    value the ref never held. An old value was held for certain (the ref moved
    away from it)."""
    try:
        text = (store.git_dir / "logs" / ref).read_text(errors="replace")
    except OSError:
        return set()
    found = set()
    for line in text.splitlines():
        old = line.split(" ", 1)[0]
        if len(old) == len(ZERO_OID) and old != ZERO_OID:
            found.add(old)
    return found


def was_reachable(store: GitStore, ref: str, commit: str) -> bool:
    """Whether ``commit`` was reachable from a value ``ref`` held before but is not reachable now.

    False where the ref keeps no reflog (a bare repository without
    ``core.logAllRefUpdates``): nothing can be said there."""
    former = _former_values(store, ref)
    if not former:
        return False
    try:
        lost = store.git("rev-list", "--stdin", input=("\n".join([*sorted(former), f"^{ref}"]) + "\n").encode())
    except GitError:
        return False
    return commit in lost.decode().split()
