"""The one place gitreg starts a process: git, in an environment that cannot
point it at some other repository, with git's own words as the error.

:func:`run` is for a command that answers and exits; :func:`start` for the
long-lived ``cat-file --batch`` readers and the streaming transfers, whose
callers read the pipes themselves. A failed :func:`run` raises the
:class:`StorageError` git's stderr reports (a full disk, a read-only
registry, a name too long), else :class:`GitFailed`.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from gitreg.errors import GitError, StorageError, storage_error

# Variables that would point our git calls at some other repository, e.g.
# when gitreg runs inside a user's git hook.
_ISOLATE = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
)
_STDERR = {"pipe": subprocess.PIPE, "inherit": None, "discard": subprocess.DEVNULL}


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every git process runs in: the caller's, minus what
    would redirect git, never prompting, in the C locale (so its messages
    can be read), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _ISOLATE}
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


class GitFailed(GitError):
    """git exited non-zero. ``returncode`` and ``stderr`` are git's own, for
    the callers that read an answer from them (``merge-base --is-ancestor``
    exits 1 for "no")."""

    def __init__(self, message: str, *, returncode: int, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    input: bytes | None = None,
    env_extra: Mapping[str, str] | None = None,
    local: bool = True,
) -> bytes:
    """``git *args``'s stdout. ``cwd`` is the repository the command works
    in (it also names the registry in a storage error).

    Raises :class:`StorageError` when git's stderr reports one (unless
    ``local`` is False: a command whose errors may be a server's, such as
    ``git lfs``), else :class:`GitFailed` ("git <command> failed: <stderr>")."""
    proc = subprocess.run(
        ["git", *args], cwd=cwd, input=input, capture_output=True, env=git_env(env_extra), check=False
    )
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace").strip()
        storage = storage_error_in(stderr, cwd) if local else None
        if storage is not None:
            raise storage
        raise GitFailed(f"git {_command_of(args)} failed: {stderr}", returncode=proc.returncode, stderr=stderr)
    return proc.stdout


def start(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env_extra: Mapping[str, str] | None = None,
    stdin: bool = False,
    stderr: Literal["pipe", "inherit", "discard"] = "pipe",
) -> subprocess.Popen[bytes]:
    """``git *args`` running, its stdout a pipe (and stdin one when asked):
    the caller reads it, waits for it and judges its exit status."""
    return subprocess.Popen(
        ["git", *args],
        cwd=cwd,
        stdin=subprocess.PIPE if stdin else None,
        stdout=subprocess.PIPE,
        stderr=_STDERR[stderr],
        env=git_env(env_extra),
    )


def _command_of(args: Sequence[str]) -> str:
    """The git command ``args`` runs (``update-ref`` in ``--git-dir=… -c x=y update-ref …``)."""
    return next((a for a in args if not a.startswith("-") and "=" not in a), "")


# git's wording for the storage errnos (strerror, and its own phrases for some).
_GIT_STORAGE = (
    ("No space left on device", errno.ENOSPC),
    ("Out of diskspace", errno.ENOSPC),
    ("Disk quota exceeded", errno.EDQUOT),
    ("Read-only file system", errno.EROFS),
    ("Permission denied", errno.EACCES),
    ("Operation not permitted", errno.EPERM),
    ("File name too long", errno.ENAMETOOLONG),
)
_QUOTED_PATH = re.compile(r"'(/[^']+)'")


def storage_error_in(stderr: str, root: Path | None) -> StorageError | None:
    """The :class:`StorageError` git's ``stderr`` reports (a full disk, a
    read-only registry, a name too long), or None. ``root`` is the repository
    the command ran in. A remote's refusal ("Permission denied (publickey)")
    is not the local file system's and stays a git error."""
    if "publickey" in stderr or "remote:" in stderr:
        return None
    quoted = _QUOTED_PATH.search(stderr)
    path = quoted.group(1) if quoted else root
    code = next((c for text, c in _GIT_STORAGE if text in stderr), None)
    if code is None and ("couldn't write" in stderr or "unable to write file" in stderr):
        # git (2.39) names no reason when writing a ref's lock or a checked-out file fails: ask the file system
        try:
            vfs = os.statvfs(os.path.dirname(quoted.group(1)) if quoted else (root or "."))
            code = errno.ENOSPC if vfs.f_bavail == 0 or vfs.f_favail == 0 else None
        except OSError:
            code = None
    if code is None:
        return None
    return storage_error(code, path, registry=_registry_root(root) if root else None)


def _registry_root(path: Path) -> Path:
    """What a user calls the registry: the work tree, not its ``.git``."""
    return path.parent if path.name == ".git" else path
