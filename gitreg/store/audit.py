"""What an audit of a repository asks of git: is the history complete, can
the missing part be fetched, which commits are reachable, and does a commit
or tag carry a valid signature.

Signatures are verified only by git itself (``git verify-commit`` /
``git verify-tag``), so GPG keyrings, ``gpg.format ssh`` and
``gpg.ssh.allowedSignersFile`` mean exactly what they mean to git.
"""

from __future__ import annotations

from gitreg.errors import GitError
from gitreg.store import process
from gitreg.store.repo import GitStore


def is_shallow(store: GitStore) -> bool:
    """True when the repository was cloned or fetched with ``--depth``."""
    return (store.git_dir / "shallow").is_file()


def remotes(store: GitStore) -> list[str]:
    return store.git("remote").decode().split()


def fetches_all_branches(store: GitStore, remote: str) -> bool:
    """False for a ``--single-branch`` (or ``--depth``) clone, whose fetch
    refspec names one branch, so stage branches never arrive."""
    try:
        specs = store.git("config", "--get-all", f"remote.{remote}.fetch").decode().split()
    except GitError:
        return False
    return any(s.lstrip("+").startswith("refs/heads/*:") for s in specs)


def fetch_everything(store: GitStore, remote: str) -> None:
    """Fetch all branches (as ``refs/remotes/<remote>/*``) and tags, and the
    full history when the repository is shallow. Tags are not forced: a tag
    that differs on the remote makes git refuse, which the caller reports."""
    args = ["fetch", "--no-progress", "--tags"]  # not --quiet: git's reasons for refusing are the report
    if is_shallow(store):
        args.append("--unshallow")
    store.git(*args, "--", remote, f"+refs/heads/*:refs/remotes/{remote}/*")


def reachable_commits(store: GitStore, *revs: str) -> set[str]:
    """Every commit reachable from any of ``revs``, in one ``git rev-list``."""
    return set(store.git("rev-list", *revs, "--").decode().split())


def last_commit_touching(store: GitStore, rev: str, path: str) -> str | None:
    out = store.git("log", "-1", "--format=%H", rev, "--", path).decode().strip()
    return out or None


def signs_commits(store: GitStore) -> bool:
    """Whether ``store`` signs the commits it writes (``sign_commits``, else git's ``commit.gpgsign``)."""
    return store._signing("commit")


def _verifies(store: GitStore, command: str, rev: str) -> tuple[bool, str]:
    proc = process.start([f"--git-dir={store.git_dir}", command, rev], cwd=store.work_tree or store.git_dir)
    out, err = proc.communicate()
    detail = (err or out).decode(errors="replace").strip().splitlines()
    return proc.returncode == 0, detail[-1] if detail else ""


def verify_commit(store: GitStore, commit: str) -> tuple[bool, str]:
    """(valid, git's last line of explanation) for ``commit``'s signature."""
    return _verifies(store, "verify-commit", commit)


def verify_tag(store: GitStore, tag: str) -> tuple[bool, str]:
    return _verifies(store, "verify-tag", tag)
