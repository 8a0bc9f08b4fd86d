"""Large files as Git LFS pointers: the blob in git is a small pointer text,
the bytes live in ``<git dir>/lfs/objects/<aa>/<bb>/<sha256>``, git-lfs's
own layout, so ``git lfs push/fetch/smudge`` see them as theirs.

Writing a pointer needs no git-lfs (the format is a documented text file);
moving objects between repositories does, and says so when it is missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitreg.errors import ConflictError, GitError
from gitreg.store import process, progress
from gitreg.store.objects import changed_while_stored

if TYPE_CHECKING:
    from gitreg.store.repo import GitStore

SPEC = "https://git-lfs.github.com/spec/v1"
_POINTER = re.compile(rb"^version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n$")
MAX_POINTER = 200  # bytes: anything longer is content, not a pointer
#: The blob every git-lfs command reads from a bare repository, whether it exists or not
#: (``git config --blob HEAD:.lfsconfig``; a registry may name its LFS server there). A partial
#: mirror must hold it, or each git-lfs command costs a lazy fetch of it (a round trip) first.
CONFIG_SPEC = "HEAD:.lfsconfig"
_CHUNK = 1 << 20


class LFSMissingError(GitError):
    """git-lfs is needed (to move large artifacts) but is not installed."""


class LFSAccessDenied(GitError):
    """The Git LFS server refused this user: HTTP 401 (no credentials, or wrong
    ones) or 403 (not allowed to read or write there). The message names the
    server and the fix (credentials through a git credential helper)."""

    error_code = "PERMISSION_DENIED"


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


def object_paths(store: GitStore) -> list[Path]:
    """The files of every LFS object in the store."""
    return sorted((store.git_dir / "lfs" / "objects").glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/" + "[0-9a-f]" * 64))


def store_file(store: GitStore, source: Path) -> tuple[str, str, int]:
    """Put ``source`` in the LFS object store and a pointer blob in git;
    return (pointer blob oid, sha256, size). The same bytes are stored once.

    One pass reads, hashes and copies the file into git-lfs's ``lfs/tmp``,
    then renames the copy to the name its bytes hashed to (or drops it if
    that object is already there: then it is touched, so that ``gitreg gc``
    sees a write's object as new until the write is long over), so an object
    always matches its name, even if the file changes meanwhile."""
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
            with contextlib.suppress(OSError):  # another user's object: it is there, which is what counts
                os.utime(dest)
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


def _detail(stderr: str) -> str:
    """The line of git-lfs's ``stderr`` that says what went wrong."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return next((ln for ln in lines if "error" in ln.lower()), lines[-1] if lines else "no output")


# git-lfs's words for an LFS server's refusal (its own, or the server's message it shows after
# "batch response:"): the HTTP status, and what it means for the user. The first that matches wins.
_REFUSALS = (
    # "not found" both when git has no credentials for the server and when the server refused the
    # ones it had (git-lfs then rejects them and asks git again)
    (re.compile(r"credentials for \S+ not found"), 401, "it wants credentials and git has none it accepts"),
    (re.compile(r"\b401 Unauthorized\b|Authentication required"), 401, "it did not accept the credentials git gave"),
    (re.compile(r"\b403 Forbidden\b|Authorization error"), 403, "the credentials git gave (if any) may not {verb}"),
)
_GIVE_CREDENTIALS = (
    "Give git credentials for that server through a git credential helper (e.g. 'git config --global "
    "credential.helper store', then once 'git credential approve' with your user name and, as the password, "
    "the access token your LFS host issues), then try again."
)
_ASK_ACCESS = (
    "Use credentials that may {verb} there (a token with that permission, kept by a git credential helper) "
    "or ask the server's owner for access, then try again."
)


def _refusal(store: GitStore, stderr: str, verb: str) -> str | None:
    """What the LFS server's refusal in git-lfs's ``stderr`` means and what to do, or None if it is not one.
    ``verb``: what was refused ("write", "read")."""
    found = next(((code, why) for pattern, code, why in _REFUSALS if pattern.search(stderr)), None)
    if found is None:
        return None
    code, why = found
    advice = _GIVE_CREDENTIALS if code == 401 else _ASK_ACCESS.format(verb=verb)
    return f"the Git LFS server at {_endpoint(store)} refused (HTTP {code}: {why.format(verb=verb)}). {advice}"


def _endpoint(store: GitStore) -> str:
    """The LFS server URL git-lfs uses for ``store`` (``lfs.url``, ``.lfsconfig`` or derived from the remote)."""
    try:
        out = process.run([f"--git-dir={store.git_dir}", "lfs", "env"], local=False).decode(errors="replace")
    except process.GitFailed:
        return "this registry's LFS URL"
    line = next((ln for ln in out.splitlines() if ln.startswith("Endpoint=")), "")
    return line.removeprefix("Endpoint=").split(" (auth=")[0] or "this registry's LFS URL"


def push_objects(store: GitStore, remote: str, sha256s: Sequence[str]) -> None:
    """Upload LFS objects to ``remote`` (before the refs that need them).
    :class:`LFSAccessDenied` when the LFS server refuses the upload (401/403);
    :class:`ConflictError` when one is no longer in the store."""
    if not sha256s:
        return
    require_installed("This registry stores large artifacts with Git LFS")
    gone = [sha for sha in sha256s if not object_path(store, sha).is_file()]
    if gone:
        raise ConflictError(
            f"LFS object {gone[0][:12]}… of this write left {store.git_dir / 'lfs' / 'objects'} before it was "
            "uploaded ('gitreg gc' running meanwhile deletes an object the LFS server already has). No ref was "
            "pushed: the remote registry is as it was. Register again."
        )
    args = [f"--git-dir={store.git_dir}", "lfs", "push", "--object-id", remote, *sha256s]
    try:
        process.run(args, local=False)
    except process.GitFailed as exc:
        refused = _refusal(store, exc.stderr, "write")
        if refused is not None:
            n = len(sha256s)
            raise LFSAccessDenied(
                f"Could not upload {n} large artifact{'s' if n > 1 else ''}: {refused} "
                "No ref was pushed: the remote registry is as it was."
            ) from None
        raise GitError(f"git lfs push failed: {_detail(exc.stderr)}") from None


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
        refused = _refusal(store, stderr, "read")
        if refused is not None:
            raise LFSAccessDenied(f"{path_hint} is kept in Git LFS and could not be downloaded: {refused}")
        raise GitError(f"git lfs smudge failed: {_detail(stderr)}")


def open_object(store: GitStore, pointer: Pointer, path_hint: str) -> Path:
    """The local file of ``pointer``, downloaded from the store's ``origin``
    if absent (git-lfs's smudge does the transfer and keeps the object)."""
    local = object_path(store, pointer.sha256)
    if not local.exists():
        try:
            _smudge(store, pointer, path_hint)
        except (LFSMissingError, LFSAccessDenied):
            raise
        except GitError as exc:
            raise GitError(
                f"{path_hint} is kept in Git LFS (object {pointer.sha256[:12]}…) and is neither in this repository "
                f"nor could it be fetched from its origin: {exc}"
            ) from None
        if not local.exists():
            raise GitError(f"git lfs did not store object {pointer.sha256[:12]}… for {path_hint}.")
    return local
