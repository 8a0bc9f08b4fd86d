"""The local, content-addressed cache of materialised versions.

A version's ``models/<name>/`` subtree is streamed once to
``<cache>/models/<tree id>/`` after every artifact's sha256 and size are
checked against the manifest (an artifact kept in Git LFS is fetched on
demand and checked the same way). From a partial mirror, the version's blobs
are fetched together first, and only that version's. Each later load checks
the files again before anything is unpickled, cheaply: by the status
recorded when their bytes were verified (:func:`check_cached`), hashing them
again only when a file's status changed, or when asked to (``verify``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

from gitreg.errors import IntegrityError
from gitreg.manifest import MANIFEST_FILE, Artifact, Manifest
from gitreg.registry.layout import version_dir
from gitreg.store import GitStore, lfs, progress

_LEGACY_READY = ".gitreg-complete"  # the marker older gitreg left inside a cache entry
_CHUNK = 1 << 20


def cache_root() -> Path:
    """``GITREG_CACHE_DIR``, else ``$XDG_CACHE_HOME/gitreg``, else ``~/.cache/gitreg``."""
    if os.environ.get("GITREG_CACHE_DIR"):
        return Path(os.environ["GITREG_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gitreg"


def file_sha256(path: Path) -> tuple[str, int]:
    """The sha256 and size of ``path``, read in chunks (reported as hashing it)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh, progress.task(progress.HASH, path.name, os.fstat(fh.fileno()).st_size) as task:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            task.advance(len(chunk))
    return h.hexdigest(), task.done


def verify_directory(directory: Path, manifest: Manifest, label: str) -> None:
    """Raise :class:`IntegrityError` naming the first artifact that differs."""
    for a in manifest.artifacts:
        _verify_file(directory / a.path, a, label)


def _verify_file(path: Path, a: Artifact, label: str) -> os.stat_result | None:
    """Hash ``path`` against ``a`` (:class:`IntegrityError` when it differs). Returns
    its status if that can vouch for the bytes just hashed (see :func:`_stampable`), else None."""
    before = time.time_ns()
    st = _regular(path)
    if st is None:
        raise IntegrityError(f"{label}: artifact {a.path} is missing.")
    sha, size = file_sha256(path)
    if sha != a.sha256 or size != a.size:
        raise IntegrityError(
            f"{label}: artifact {a.path} does not match its manifest (sha256 {sha[:12]}… size {size}, "
            f"expected {a.sha256[:12]}… size {a.size}). It was changed after registration; refusing to load it."
        )
    after = _regular(path)
    return after if after is not None and _key(after) == _key(st) and _stampable(after, before) else None


def _regular(path: Path) -> os.stat_result | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


# -- the cheap check of a cache entry --------------------------------------------------------------------
#
# A cache entry is verified byte by byte once, when it is materialised (or on demand: verify=True), and its
# files' status (size, mtime and ctime in ns, inode, device) is recorded beside it in <tree>.verified. A load
# whose files still have that status trusts them without hashing. It is sound against any later write:
# writing a file sets its mtime and ctime to the current time, and materialisation "seals" each file it wrote
# by moving its mtime back (os.utime sets ctime to now), so after the seal mtime != ctime and a write makes
# them equal again, whatever the clock's resolution. A file re-verified with mtime == ctime (an entry made
# by an older gitreg) is recorded only if its ctime is older than the check by _RACY_NS, git's "racy
# timestamp" rule: a write in the same clock tick as its last change would leave its status as it was.

_RACY_NS = 2_000_000_000


def _key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _stampable(st: os.stat_result, before_ns: int) -> bool:
    """Whether a later write to a file with status ``st``, hashed after ``before_ns``, would change its status."""
    return st.st_mtime_ns != st.st_ctime_ns or st.st_ctime_ns + _RACY_NS < before_ns


def _seal(path: Path) -> os.stat_result:
    """Move ``path``'s mtime one second back, so any later write to it changes its status."""
    st = os.lstat(path)
    with contextlib.suppress(OSError):  # unsealed, it is simply not recorded: the next load hashes it
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 1_000_000_000), follow_symlinks=False)
    return os.lstat(path)


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _write_stamp(target: Path, manifest: Manifest, stats: dict[str, os.stat_result]) -> None:
    """Record that ``target``'s artifacts, with these statuses, were verified against ``manifest``.
    Best effort: without a record, the next load verifies every byte again."""
    record = {a.path: [a.sha256, *_key(stats[a.path])] for a in manifest.artifacts}
    stamp, tmp = _stamp_path(target), None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:12]}-", suffix=".verified", dir=target.parent)
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh)
        os.replace(tmp, stamp)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _unchanged_since_verified(target: Path, manifest: Manifest) -> bool:
    """Whether every artifact of ``target`` has the status recorded when it was verified (no byte is read)."""
    try:
        record = json.loads(_stamp_path(target).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(record, dict):
        return False
    for a in manifest.artifacts:
        st = _regular(target / a.path)
        if st is None or record.get(a.path) != [a.sha256, *_key(st)]:
            return False
    return True


def check_cached(target: Path, manifest: Manifest, label: str, *, verify: bool = False) -> None:
    """Make sure the cache entry ``target`` holds ``manifest``'s artifacts: by their recorded status when
    nothing changed since they were verified, else (or with ``verify``) by hashing every byte, which
    records them again. :class:`IntegrityError` when an artifact differs."""
    if not verify and _unchanged_since_verified(target, manifest):
        return
    _stamp_path(target).unlink(missing_ok=True)
    stats = {a.path: _verify_file(target / a.path, a, label) for a in manifest.artifacts}
    if all(st is not None for st in stats.values()):
        _write_stamp(target, manifest, {k: v for k, v in stats.items() if v is not None})


def read_artifact(store: GitStore, tree: str, manifest: Manifest, path: str, label: str) -> bytes | None:
    """One artifact's bytes, checked against the manifest, without materialising
    the version (for a small file such as ``MLmodel``). None when the manifest
    does not list it or it is kept in Git LFS; :class:`IntegrityError` when it differs."""
    artifact = manifest.artifact(path)
    if artifact is not None:
        store.ensure_local(store.blob_ids([f"{tree}:{path}"]))
    data = store.read_blob(f"{tree}:{path}") if artifact is not None else None
    if artifact is None or data is None or (len(data) != artifact.size and lfs.parse_pointer(data) is not None):
        return None
    sha = hashlib.sha256(data).hexdigest()
    if sha != artifact.sha256 or len(data) != artifact.size:
        raise _tampered(label, artifact, sha, len(data))
    return data


def _tampered(label: str, a: Artifact, sha: str, size: int) -> IntegrityError:
    return IntegrityError(
        f"{label}: artifact {a.path} has sha256 {sha[:12]}… (size {size}) but the manifest says "
        f"{a.sha256[:12]}… (size {a.size}). The stored content was tampered with; refusing to load it."
    )


def _copy_blob(store: GitStore, spec: str, dest: Path, label: str, a: Artifact) -> tuple[str, int]:
    """Stream the blob ``spec`` into ``dest`` (never whole in memory); return its sha256 and size."""
    h = hashlib.sha256()
    with open(dest, "wb") as fh, progress.task(progress.MATERIALISE, a.path, a.size) as task:

        def sink(chunk: bytes) -> None:
            h.update(chunk)
            fh.write(chunk)
            task.advance(len(chunk))

        got = store.stream_blob(spec, sink)
    if got is None:
        raise IntegrityError(f"{label}: artifact {a.path} is listed in the manifest but not stored.")
    return h.hexdigest(), got[1]


def _copy_file(source: Path, dest: Path, a: Artifact) -> tuple[str, int]:
    """Copy ``source`` to ``dest`` in chunks; return the sha256 and size of what was copied."""
    h = hashlib.sha256()
    with open(source, "rb") as src, open(dest, "wb") as out, progress.task(progress.MATERIALISE, a.path, a.size) as t:
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            out.write(chunk)
            t.advance(len(chunk))
    return h.hexdigest(), t.done


def _materialise_artifact(store: GitStore, tree: str, manifest: Manifest, a: Artifact, dest: Path, label: str) -> None:
    """Write one artifact into ``dest``, from git or (behind a pointer) Git LFS, checked against its manifest."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    sha, size = _copy_blob(store, f"{tree}:{a.path}", dest, label, a)
    pointer = lfs.parse_pointer(dest.read_bytes()) if size != a.size and size <= lfs.MAX_POINTER else None
    if pointer is not None and pointer.sha256 == a.sha256:
        sha, size = _copy_file(lfs.open_object(store, pointer, f"{version_dir(manifest.name)}/{a.path}"), dest, a)
    if sha != a.sha256 or size != a.size:
        raise _tampered(label, a, sha, size)


def materialize(store: GitStore, tree: str, manifest: Manifest, label: str, *, verify: bool = False) -> Path:
    """The local directory holding version ``tree``, verified: every byte when it is
    materialised (or ``verify``), after that by the status of its files (:func:`check_cached`)."""
    target = cache_root() / "models" / tree
    if target.is_dir():  # entries appear by an atomic rename of a complete directory
        (target / _LEGACY_READY).unlink(missing_ok=True)  # not an artifact: registering from here would copy it
        check_cached(target, manifest, f"{label} (cached in {target})", verify=verify)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{tree[:12]}-", dir=target.parent))
    try:
        store.ensure_local(store.tree_blobs(tree))  # a partial mirror fetches the version's blobs in one batch
        sealed = {}
        for a in manifest.artifacts:
            _materialise_artifact(store, tree, manifest, a, tmp / a.path, label)
            sealed[a.path] = _seal(tmp / a.path)
        (tmp / MANIFEST_FILE).write_text(manifest.to_yaml())
        try:
            os.rename(tmp, target)
        except OSError:  # another process materialised it first
            shutil.rmtree(tmp, ignore_errors=True)
            check_cached(target, manifest, f"{label} (cached in {target})", verify=True)
            return target
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if all(_stampable(st, time.time_ns()) for st in sealed.values()):
        _write_stamp(target, manifest, sealed)
    return target
