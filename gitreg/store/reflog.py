"""What a branch used to hold: the one question gitreg asks of git's reflog."""

from __future__ import annotations

from gitreg.errors import GitError
from gitreg.store.repo import GitStore


def was_reachable(store: GitStore, ref: str, commit: str) -> bool:
    """Whether ``commit`` was reachable from an earlier value of ``ref`` (by its reflog) but is not now.

    False where the ref keeps no reflog (a bare repository without
    ``core.logAllRefUpdates``): nothing can be said there."""
    try:
        former = store.git("log", "-g", "--format=%H", ref, "--").decode().split()
    except GitError:
        return False
    if not former:
        return False
    try:
        lost = store.git("rev-list", "--stdin", input=("\n".join([*sorted(set(former)), f"^{ref}"]) + "\n").encode())
    except GitError:
        return False
    return commit in lost.decode().split()
