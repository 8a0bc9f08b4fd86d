"""What a branch was at a moment: the first-parent commit at or before an instant (committer date)."""

from __future__ import annotations

from gitreg.store.repo import GitStore


def first_parent_at(store: GitStore, rev: str, when: int) -> str | None:
    """The newest commit on ``rev``'s first-parent chain whose committer date is at or before
    ``when`` (seconds since the epoch), or None if the branch did not exist yet (or ``rev``
    does not exist). One ``git rev-list``; first parents, so a merged pull request counts
    from the moment its merge commit landed, not from when its own commits were made."""
    if store.read(f"{rev}^{{commit}}") is None:
        return None
    out = store.git("rev-list", "-1", "--first-parent", f"--before={when}", rev, "--").decode().strip()
    return out or None
