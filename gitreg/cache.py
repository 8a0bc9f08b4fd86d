"""The local, content-addressed cache of materialised versions.

A version's ``models/<name>/`` subtree is streamed once to
``<cache>/models/<tree id>/`` after every artifact's sha256 and size are
checked against the manifest (an artifact kept in Git LFS is fetched on
demand and checked the same way). From a partial mirror, the version's blobs
are fetched together first, and only that version's. Each later load checks the files again before
anything is unpickled, so a file changed in the cache is caught too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from gitreg.errors import IntegrityError
from gitreg.manifest import MANIFEST_FILE, Artifact, Manifest
from gitreg.registry.layout import version_dir
from gitreg.store import GitStore, lfs

_LEGACY_READY = ".gitreg-complete"  # the marker older gitreg left inside a cache entry


def cache_root() -> Path:
    """``GITREG_CACHE_DIR``, else ``$XDG_CACHE_HOME/gitreg``, else ``~/.cache/gitreg``."""
    if os.environ.get("GITREG_CACHE_DIR"):
        return Path(os.environ["GITREG_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gitreg"


def file_sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def verify_directory(directory: Path, manifest: Manifest, label: str) -> None:
    """Raise :class:`IntegrityError` naming the first artifact that differs."""
    for a in manifest.artifacts:
        path = directory / a.path
        if path.is_symlink() or not path.is_file():
            raise IntegrityError(f"{label}: artifact {a.path} is missing.")
        sha, size = file_sha256(path)
        if sha != a.sha256 or size != a.size:
            raise IntegrityError(
                f"{label}: artifact {a.path} does not match its manifest (sha256 {sha[:12]}… size {size}, "
                f"expected {a.sha256[:12]}… size {a.size}). It was changed after registration; refusing to load it."
            )


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
    with open(dest, "wb") as fh:

        def sink(chunk: bytes) -> None:
            h.update(chunk)
            fh.write(chunk)

        got = store.stream_blob(spec, sink)
    if got is None:
        raise IntegrityError(f"{label}: artifact {a.path} is listed in the manifest but not stored.")
    return h.hexdigest(), got[1]


def materialize(store: GitStore, tree: str, manifest: Manifest, label: str) -> Path:
    """The local directory holding version ``tree``, verified."""
    target = cache_root() / "models" / tree
    if target.is_dir():  # entries appear by an atomic rename of a complete directory
        (target / _LEGACY_READY).unlink(missing_ok=True)  # not an artifact: registering from here would copy it
        verify_directory(target, manifest, f"{label} (cached in {target})")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{tree[:12]}-", dir=target.parent))
    try:
        store.ensure_local(store.tree_blobs(tree))  # a partial mirror fetches the version's blobs in one batch
        for a in manifest.artifacts:
            dest = tmp / a.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            sha, size = _copy_blob(store, f"{tree}:{a.path}", dest, label, a)
            pointer = lfs.parse_pointer(dest.read_bytes()) if size != a.size and size <= lfs.MAX_POINTER else None
            if pointer is not None and pointer.sha256 == a.sha256:
                shutil.copyfile(lfs.open_object(store, pointer, f"{version_dir(manifest.name)}/{a.path}"), dest)
                sha, size = file_sha256(dest)
            if sha != a.sha256 or size != a.size:
                raise _tampered(label, a, sha, size)
        (tmp / MANIFEST_FILE).write_text(manifest.to_yaml())
        try:
            os.rename(tmp, target)
        except OSError:  # another process materialised it first
            shutil.rmtree(tmp, ignore_errors=True)
            verify_directory(target, manifest, f"{label} (cached in {target})")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
