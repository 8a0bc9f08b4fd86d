"""Large files as Git LFS pointers: the blob in git is a small pointer text,
the bytes live in ``<git dir>/lfs/objects/<aa>/<bb>/<sha256>``, git-lfs's
own layout, so ``git lfs push/fetch/smudge`` see them as theirs.

Writing a pointer needs no git-lfs (the format is a documented text file);
moving objects between repositories does, and says so when it is missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitreg.errors import GitError
from gitreg.store import process, progress
from gitreg.store.objects import changed_while_stored

if TYPE_CHECKING:
    from gitreg.store.repo import GitStore

SPEC = "https://git-lfs.github.com/spec/v1"
_POINTER = re.compile(rb"^version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n$")
MAX_POINTER = 200  # bytes: anything longer is content, not a pointer
_CHUNK = 1 << 20


class LFSMissingError(GitError):
    """git-lfs is needed (to move large artifacts) but is not installed."""


@dataclass(frozen=True)
class Pointer:
    sha256: str
    size: int

    def encode(self) -> bytes:
        return f"version {SPEC}\noid sha256:{self.sha256}\nsize {self.size}\n".encode()


def parse_pointer(data: bytes) -> Pointer | None:
    """The pointer ``data`` holds, or None if it is ordinary content."""
    if len(data) > MAX_POINTER:
        return None
    m = _POINTER.match(data)
    return Pointer(m.group(1).decode(), int(m.group(2))) if m else None


def object_path(store: GitStore, sha256: str) -> Path:
    return store.git_dir / "lfs" / "objects" / sha256[:2] / sha256[2:4] / sha256


def store_file(store: GitStore, source: Path) -> tuple[str, str, int]:
    """Put ``source`` in the LFS object store and a pointer blob in git;
    return (pointer blob oid, sha256, size). The same bytes are stored once.

    One pass reads, hashes and copies the file into git-lfs's ``lfs/tmp``,
    then renames the copy to the name its bytes hashed to (or drops it if
    that object is already there), so an object always matches its name,
    even if the file changes meanwhile."""
    size = source.stat().st_size
    tmp_dir = store.git_dir / "lfs" / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix="gitreg-")
    try:
        h = hashlib.sha256()
        with (
            os.fdopen(fd, "wb") as out,
            open(source, "rb") as fh,
            progress.task(progress.WRITE, source.name, size) as task,
        ):
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
                out.write(chunk)
                task.advance(len(chunk))
        if task.done != size:
            raise changed_while_stored(source)
        sha = h.hexdigest()
        dest = object_path(store, sha)
        if dest.exists():
            os.unlink(tmp)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return store.write_blob(Pointer(sha, task.done).encode()), sha, task.done


def installed() -> bool:
    """Whether git-lfs is on ``PATH`` (git finds it there too)."""
    return shutil.which("git-lfs") is not None


def require_installed(why: str) -> None:
    """Raise :class:`LFSMissingError` (saying ``why`` LFS is needed, and the fix) unless git-lfs is installed."""
    if not installed():
        raise LFSMissingError(
            f"{why}, but git-lfs is not installed. Install git-lfs (e.g. 'apt-get install git-lfs' or "
            "https://git-lfs.com) and try again."
        )


def _git_lfs(store: GitStore, args: Sequence[str], *, input: bytes | None = None) -> bytes:
    require_installed("This registry stores large artifacts with Git LFS")
    try:
        return process.run([f"--git-dir={store.git_dir}", "lfs", *args], input=input, local=False)
    except process.GitFailed as exc:
        raise GitError(f"git lfs {args[0]} failed: {_detail(exc.stderr)}") from None


def _detail(stderr: str) -> str:
    """The line of git-lfs's ``stderr`` that says what went wrong."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return next((ln for ln in lines if "error" in ln.lower()), lines[-1] if lines else "no output")


def push_objects(store: GitStore, remote: str, sha256s: Sequence[str]) -> None:
    """Upload LFS objects to ``remote`` (before the refs that need them)."""
    if sha256s:
        _git_lfs(store, ["push", "--object-id", remote, *sha256s])


def _smudge(store: GitStore, pointer: Pointer, path_hint: str) -> None:
    """Have git-lfs fetch ``pointer``'s object into the store (``git lfs smudge``, which keeps it).
    Smudge prints the whole content: it is read in chunks and dropped, never held whole."""
    require_installed("This registry stores large artifacts with Git LFS")
    proc = process.start([f"--git-dir={store.git_dir}", "lfs", "smudge", "--", path_hint], stdin=True)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    with progress.task(progress.FETCH, path_hint.rpartition("/")[2], pointer.size) as task:
        try:
            proc.stdin.write(pointer.encode())
            proc.stdin.close()
        except BrokenPipeError:  # it failed at once: its stderr says why
            pass
        while chunk := proc.stdout.read(_CHUNK):
            task.advance(len(chunk))
    stderr = proc.stderr.read().decode(errors="replace")
    if proc.wait() != 0:
        raise GitError(f"git lfs smudge failed: {_detail(stderr)}")


def open_object(store: GitStore, pointer: Pointer, path_hint: str) -> Path:
    """The local file of ``pointer``, downloaded from the store's ``origin``
    if absent (git-lfs's smudge does the transfer and keeps the object)."""
    local = object_path(store, pointer.sha256)
    if not local.exists():
        try:
            _smudge(store, pointer, path_hint)
        except LFSMissingError:
            raise
        except GitError as exc:
            raise GitError(
                f"{path_hint} is kept in Git LFS (object {pointer.sha256[:12]}…) and is neither in this repository "
                f"nor could it be fetched from its origin: {exc}"
            ) from None
        if not local.exists():
            raise GitError(f"git lfs did not store object {pointer.sha256[:12]}… for {path_hint}.")
    return local
