"""Keeping a checked-out work tree in step with refs moved underneath it,
and describing the repository a model was trained in.

Writes move ``refs/heads/main`` without touching the index. A registry that
also has a work tree would then show the new version as a staged reversal.
:func:`sync` performs git's own two-way checkout from the commit the work
tree last reflected to the branch head: files the user edited and the update
does not touch are kept, and if an update would overwrite an edit git refuses
and nothing is changed (the caller warns).
"""

from __future__ import annotations

import fcntl
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitreg.errors import GitError
from gitreg.store.repo import GitStore, git_env

_MARK = "gitreg-synced"


def mark_synced(store: GitStore, commit: str) -> None:
    (store.git_dir / _MARK).write_text(commit + "\n")


def sync(store: GitStore, branch: str = "refs/heads/main") -> str | None:
    """Bring the work tree and index up to ``branch``. Returns None on success
    or a one-line warning saying what was kept and how to finish by hand."""
    if store.work_tree is None:
        return None
    head = (store.git_dir / "HEAD").read_text().strip()
    if head != f"ref: {branch}":
        return None
    with open(store.git_dir / "gitreg-sync.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        new = store.ref(branch)
        if new is None:
            return None
        mark = store.git_dir / _MARK
        old = mark.read_text().strip() if mark.exists() else ""
        if old == new:
            return None
        if not old or store.read(old + "^{commit}") is None:
            old = new  # unknown starting point: only refresh the index stat info
        try:
            store.git("read-tree", "-m", "-u", old, new, config=["core.hooksPath=/dev/null"])
        except GitError as exc:
            reason = str(exc).splitlines()[-1] if str(exc) else "git refused"
            return (
                f"the registry's work tree was not updated because it has uncommitted edits "
                f"that the update would overwrite ({reason.strip()}); your edits are kept. "
                f"Commit or stash them, then run: git -C {store.work_tree} reset --keep {branch}"
            )
        mark.write_text(new + "\n")
    return None


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
    env = git_env()

    def start(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["git", "-C", str(root), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )

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
