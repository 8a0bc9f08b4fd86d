"""Keeping a checked-out work tree in step with refs moved underneath it,
and describing the repository a model was trained in.

Writes move ``refs/heads/main`` without touching the index. A registry that
also has a work tree would then show the new version as a staged reversal.
:func:`sync` performs git's own two-way checkout from the commit the work
tree last reflected to the branch head: files the user edited and the update
does not touch are kept, and if an update would overwrite an edit git refuses
and nothing is changed (the caller warns, with the commands that finish it).
"""

from __future__ import annotations

import fcntl
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitreg.errors import GitError, StorageError, storage_error
from gitreg.store import locks, process
from gitreg.store.process import storage_error_in
from gitreg.store.repo import GitStore

if TYPE_CHECKING:
    import subprocess

_MARK = "gitreg-synced"
_PENDING = "gitreg-syncing"  # the commit a checkout in progress is moving to; left only by a killed one
_LOCKED = "locked: "
_RECENT = 50  # how far back main's history is searched for the commit the index shows


def mark_synced(store: GitStore, commit: str) -> None:
    """Record the commit the index and work tree reflect (atomically: a killed
    process leaves the old mark or the new one, never a torn file)."""
    _write_atomically(store.git_dir / _MARK, commit)


def _write_atomically(path: Path, commit: str) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(commit + "\n")
    os.replace(tmp, path)


def sync(store: GitStore, branch: str = "refs/heads/main") -> str | None:
    """Bring the work tree and index up to ``branch``. Returns None on success
    or a one-line reason saying what was kept and exactly how to finish, for
    the caller to put after what it did (the branch has moved either way).

    git's two-way merge (``read-tree -m -u OLD NEW``) moves every file that
    the user has not changed and refuses, changing nothing, if an update
    would overwrite an edit (staged, unstaged, or an untracked file in the
    way). OLD is the commit the work tree last reflected: the mark written
    after each sync, or, if the mark is missing or wrong (a process killed
    between the checkout and the mark, a manual checkout), the newest commit
    on the branch whose tree the index holds.
    """
    if store.work_tree is None:
        return None
    head = (store.git_dir / "HEAD").read_text().strip()
    if head != f"ref: {branch}":
        return None
    try:
        return _sync(store, branch)
    except (StorageError, OSError) as exc:
        # the branch has moved; a full or read-only disk stopped only the work tree
        found = exc if isinstance(exc, StorageError) else storage_error(exc.errno, exc.filename)
        if found is None:
            raise
        return _not_updated(found.problem)


def _sync(store: GitStore, branch: str) -> str | None:
    with open(store.git_dir / "gitreg-sync.lock", "w") as lock:
        # an flock, not a lock file: the kernel releases it when its holder dies
        fcntl.flock(lock, fcntl.LOCK_EX)
        new = store.ref(branch)
        if new is None:
            return None
        mark = store.git_dir / _MARK
        old = mark.read_text().strip() if mark.exists() else ""
        if old == new:
            return None
        if not old or store.read(old + "^{commit}") is None:
            old = _index_commit(store, branch) or new
        pending = store.git_dir / _PENDING
        killed = pending.read_text().strip() if pending.exists() else ""
        if killed:  # a sync was killed: its read-tree may have finished (index at its target), or not
            old = _index_commit(store, branch) or old
        else:
            _write_atomically(pending, new)
        try:
            old, error = _resume(store, branch, old, new)
        except StorageError as exc:
            return _not_updated(exc.problem)
        if error is not None:
            if not killed:
                pending.unlink(missing_ok=True)  # a refused read-tree wrote nothing
            return _refused(store, old, new, error)
        if killed:
            _remove_litter(store, killed, new)
        mark_synced(store, new)
        pending.unlink(missing_ok=True)
    return None


def _resume(store: GitStore, branch: str, old: str, new: str) -> tuple[str, str | None]:
    """Move the index and work tree from ``old`` to ``new``. Returns the
    commit it moved from (the index's own, if ``old`` was wrong) and None,
    or git's reason for refusing."""
    error = _two_way(store, old, new)
    if error is not None and not error.startswith(_LOCKED) and _refresh_index(store):
        # the index's stat data may be stale (a copied registry: every file's inode and
        # times changed), which read-tree takes for edits; refreshed, only real edits refuse
        error = _two_way(store, old, new)
    if error is not None:
        shown = _index_commit(store, branch)
        if shown is not None and shown != old:
            old, error = shown, _two_way(store, shown, new)
    if error is not None and not error.startswith(_LOCKED) and _killed_checkout(store, old, new):
        try:
            store.git("read-tree", "--reset", "-u", new, config=["core.hooksPath=/dev/null"])
            error = None
        except GitError as exc:
            error = str(exc)
    return old, error


def _two_way(store: GitStore, old: str, new: str) -> str | None:
    """``read-tree -m -u old new``; None on success, else git's reason. A
    provably stale ``index.lock`` is removed and the merge tried again."""
    for attempt in range(2):
        try:
            store.git("read-tree", "-m", "-u", old, new, config=["core.hooksPath=/dev/null"])
            return None
        except GitError as exc:
            held = locks.locks_named_in(str(exc))
            if attempt == 0 and held:
                states = [locks.clear_if_stale(p, store.git_dir, store.work_tree) for p in held]
                if all(s.gone for s in states):
                    continue
                return _LOCKED + " ".join(s.describe() for s in states if not s.gone)
            return str(exc)
    return "the index lock was taken again"


def _refresh_index(store: GitStore) -> bool:
    """``git update-index -q --refresh``: re-read the stat data of every file
    whose content still matches the index, so only real edits count as
    edits. Done only when an update was refused: on the usual path
    read-tree's own checks are all the cost. False if it could not run."""
    try:
        store.git("update-index", "-q", "--refresh", config=["core.hooksPath=/dev/null"])
    except GitError as exc:
        # exit 1 with nothing on stderr only means some files really are edited
        return "fatal" not in str(exc) and "error" not in str(exc)
    return True


def _killed_checkout(store: GitStore, old: str, new: str) -> bool:
    """Whether every difference between the work tree and the index is a file
    git itself wrote for a commit between ``old`` and ``new`` (a sync killed
    half way through its checkout), with nothing staged: then there is no user
    edit to keep and the checkout can simply be redone. A file cut short or
    missing (git unlinks a file before writing its new content) counts as
    git's own: redoing the checkout restores it, so no authored content is lost."""
    try:
        if store.git("diff-index", "--cached", "--name-only", old, "--").strip():
            return False
        listed = store.git("ls-files", "-z", "--modified", "--deleted", "--others", "--exclude-standard")
        history = store.git("log", "--first-parent", "--raw", "--no-abbrev", "--format=", f"{old}..{new}", "--")
    except GitError:
        return False
    paths = sorted({p for p in listed.decode("utf-8", "surrogateescape").split("\0") if p})
    if not paths or any("\n" in p for p in paths):  # git never wrote those; --stdin-paths could not name them
        return False
    written: dict[str, set[str | None]] = {}
    for line in history.decode("utf-8", "surrogateescape").splitlines():
        meta, _, path = line.partition("\t")
        fields = meta.split()
        if len(fields) >= 5:
            written.setdefault(path, set()).add(None if fields[4] == "D" else fields[3])
    present = [p for p in paths if (store.work_tree / p).is_file()]  # type: ignore[operator]
    oids = (
        store.git("hash-object", "--stdin-paths", input="".join(f"{p}\n" for p in present).encode()) if present else b""
    )
    actual: dict[str, str | None] = {p: None for p in paths}
    actual.update(zip(present, oids.decode().split(), strict=True))
    return all(
        actual[p] is None or actual[p] in written.get(p, set()) or _torn_write(store, p, written.get(p, set()))
        for p in paths
    )


def _remove_litter(store: GitStore, killed: str, new: str) -> None:
    """Remove the files a killed checkout wrote for ``killed`` that ``new``
    does not have: git's two-way merge from the commit before leaves them
    untracked, since neither of its trees names them. Only a file holding
    exactly (or a prefix of) the blob ``killed`` put there is removed, so an
    untracked file of the user's is never touched; its content is in git."""
    if store.read(killed + "^{commit}") is None:
        return
    try:
        raw = store.git("diff-tree", "-r", "-z", "--no-renames", "--diff-filter=A", new, killed)
    except GitError:
        return
    fields = raw.decode("utf-8", "surrogateescape").split("\0")
    added = {fields[i + 1]: fields[i].split()[3] for i in range(0, len(fields) - 1, 2) if fields[i].startswith(":")}
    wt = store.work_tree
    assert wt is not None
    tracked = set(store.git("ls-files", "-z").decode("utf-8", "surrogateescape").split("\0"))
    present = [
        p for p in added if p not in tracked and "\n" not in p and (wt / p).is_file() and not (wt / p).is_symlink()
    ]
    if not present:
        return
    oids = store.git("hash-object", "--stdin-paths", input="".join(f"{p}\n" for p in present).encode()).decode().split()
    for path, oid in zip(present, oids, strict=True):
        if oid == added[path] or _torn_write(store, path, {added[path]}):
            (wt / path).unlink()
            _prune_empty_dirs((wt / path).parent, wt)


def _prune_empty_dirs(directory: Path, root: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def _torn_write(store: GitStore, path: str, candidates: set[str | None]) -> bool:
    """A file git was killed while writing: a strict prefix (often empty) of
    the content it was checking out."""
    data = (store.work_tree / path).read_bytes() if (store.work_tree / path).is_file() else None  # type: ignore[operator]
    if data is None:
        return False
    for oid in candidates - {None}:
        blob = store.read_blob(oid) if oid else None
        if blob is not None and len(data) < len(blob) and blob.startswith(data):
            return True
    return False


def _index_commit(store: GitStore, branch: str) -> str | None:
    """The newest of the branch's recent commits whose tree the index holds."""
    try:
        tree = store.git("write-tree").decode().strip()  # fails while the index has conflicts
        recent = store.git("log", f"--max-count={_RECENT}", "--first-parent", "--format=%H %T", branch, "--")
    except GitError:
        return None
    for line in recent.decode().splitlines():
        commit, _, commit_tree = line.partition(" ")
        if commit_tree == tree:
            return commit
    return None


def _not_updated(problem: str) -> str:
    # No git command to give: a checkout cut short by the disk leaves files half
    # written, which git's own merge takes for edits. The next sync recognises
    # them as its own (see _killed_checkout) and finishes the checkout.
    return (
        f"the work tree was not updated: {problem}. Once that is fixed, the next write to the registry brings it along."
    )


def _refused(store: GitStore, old: str, new: str, error: str) -> str:
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    detail = "; ".join(x for x in lines if not x.startswith(("Please", "Aborting", "hint:")))[:500]
    wt = shlex.quote(str(store.work_tree))
    storage = storage_error_in(error, store.work_tree)
    if storage is not None:
        return _not_updated(storage.problem)
    if error.startswith(_LOCKED) or locks.locks_named_in(error):
        return f"the work tree was not updated: {detail} Then run: git -C {wt} read-tree -m -u {old} {new}"
    if "Untracked working tree file" in error:
        return (
            f"the work tree was not updated because untracked files "
            f"are where the update puts files ({detail}). Move them elsewhere, then run: "
            f"git -C {wt} read-tree -m -u {old} {new}"
        )
    patch = shlex.quote(str(store.git_dir / "gitreg-your-edits.patch"))
    return (
        f"the work tree was not updated because it has "
        f"uncommitted edits the update would overwrite ({detail}); your edits are kept as they were. "
        f"To update it and re-apply them, run: git -C {wt} diff --binary {old} > {patch} && "
        f"git -C {wt} reset --hard {new} && git -C {wt} apply --3way {patch}"
    )


@dataclass(frozen=True)
class WorkTreeInfo:
    """Where a model was trained: the training repository's state."""

    root: str
    commit: str | None
    remote: str | None
    dirty: bool


def describe(path: Path, exclude: Path | None = None) -> WorkTreeInfo | None:
    """The git work tree containing ``path`` (unless it is ``exclude``), or None."""
    found = GitStore.discover(path)
    if found is None or found.work_tree is None:
        return None
    if exclude is not None and found.git_dir.resolve() == exclude.resolve():
        return None
    root = found.work_tree

    def start(*args: str) -> subprocess.Popen[bytes]:
        return process.start(["-C", str(root), *args], stderr="discard")

    def output(proc: subprocess.Popen[bytes]) -> str | None:
        out, _ = proc.communicate()
        return out.decode(errors="replace") if proc.returncode == 0 else None

    # Both run at once: a registration waits for the slower one, not the sum.
    status_proc = start("status", "--porcelain=v2", "--branch", "--untracked-files=no")
    remote_proc = start("config", "--get", "remote.origin.url")
    status = output(status_proc)
    commit, dirty = None, False
    for line in (status or "").splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split()[2]
            commit = None if oid == "(initial)" else oid
        elif not line.startswith("#"):
            dirty = True
    remote = (output(remote_proc) or "").strip() or None
    return WorkTreeInfo(str(root), commit, remote, dirty)


def last_synced(store: GitStore) -> str | None:
    """The commit the work tree last reflected, as recorded by :func:`mark_synced`; None if unknown."""
    try:
        text = (store.git_dir / _MARK).read_text().strip()
    except OSError:
        return None
    return text or None


# git's own markers of an operation a user has begun and not finished
_IN_PROGRESS = {
    "rebase-merge": "a rebase",
    "rebase-apply": "a rebase or 'git am'",
    "MERGE_HEAD": "a merge",
    "CHERRY_PICK_HEAD": "a cherry-pick",
    "REVERT_HEAD": "a revert",
}


def operations_in_progress(store: GitStore) -> list[str]:
    """Operations a user began in the work tree and has not finished, one sentence each.

    Aborting a rebase, merge or cherry-pick moves the branch back to where
    it started, undoing whatever was written meanwhile."""
    if store.work_tree is None:
        return []
    return [
        f"{what} is in progress in {store.work_tree}; finishing or aborting it may undo this write "
        "('git status' says which)."
        for marker, what in _IN_PROGRESS.items()
        if (store.git_dir / marker).exists()
    ]


def checked_out(store: GitStore) -> str | None:
    """The ref the work tree's HEAD is on (None: bare, or a detached HEAD)."""
    if store.work_tree is None:
        return None
    try:
        head = (store.git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    return head[len("ref: ") :] if head.startswith("ref: ") else None
