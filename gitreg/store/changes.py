"""Which paths each commit changed, newest first, read as git writes it so a reader can stop early.

One path-limited ``git log --first-parent --raw -t``: each commit comes with its committer time
and subject and the old and new object of every path it changed (trees included). A caller that
has its answer stops iterating and the git process is ended.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass

from gitreg.errors import GitError
from gitreg.store import process
from gitreg.store.repo import ZERO_OID, GitStore

_START = b"\x00"


@dataclass(frozen=True)
class Change:
    """One path a commit changed: its object before and after (None: absent)."""

    path: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ChangedCommit:
    """A first-parent commit of one of the branches asked about and what it changed under the paths asked."""

    time: int  # committer date, seconds since the epoch
    subject: str
    changes: tuple[Change, ...]


def changed_commits(store: GitStore, revs: Sequence[str], paths: Sequence[str]) -> Generator[ChangedCommit, None, None]:
    """First-parent commits of ``revs`` (git's revision arguments: commit ids, ``A..B`` ranges;
    each must exist) that changed any of ``paths``, newest first by committer date. Closing the
    iterator early ends the git process; a git that fails is :class:`~gitreg.errors.GitError`."""
    if not revs:
        return
    fmt = "--format=%x00%ct %s"
    # literal pathspecs: a path is a name, never a glob; unquoted paths, as the tree has them
    pre = [f"--git-dir={store.git_dir}", "--literal-pathspecs", "-c", "core.quotePath=false"]
    args = [*pre, "log", "--first-parent", "--raw", "-t", "--no-abbrev", fmt]
    proc = process.start([*args, *revs, "--", *paths], cwd=store.git_dir)
    assert proc.stdout is not None
    finished = False
    try:
        head: bytes | None = None
        changes: list[Change] = []
        for line in proc.stdout:
            if line.startswith(_START):
                if head is not None:
                    yield _commit(head, changes)
                head, changes = line[1:].rstrip(b"\n"), []
            elif line.startswith(b":"):
                changes.append(_change(line))
        if head is not None:
            yield _commit(head, changes)
        finished = True
    finally:
        if not finished:
            proc.kill()
        proc.stdout.close()
        code = proc.wait()
    if code != 0:
        raise GitError(f"git log {' '.join(revs)} -- {' '.join(paths)} failed (exit {code}).")


def _commit(head: bytes, changes: list[Change]) -> ChangedCommit:
    when, subject = [*head.decode(errors="replace").split(" ", 1), ""][:2]
    return ChangedCommit(int(when), subject, tuple(changes))


def _change(line: bytes) -> Change:
    """A ``--raw`` line: ``:<mode> <mode> <old> <new> <status>\\t<path>``."""
    meta, _, path = line.rstrip(b"\n").partition(b"\t")
    fields = meta.split()
    old, new = fields[2].decode(), fields[3].decode()
    return Change(path.decode(errors="replace"), None if old == ZERO_OID else old, None if new == ZERO_OID else new)


__all__ = ["Change", "ChangedCommit", "changed_commits"]
