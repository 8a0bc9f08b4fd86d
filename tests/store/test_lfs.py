"""Large artifacts in Git LFS: pointers in git, objects pushed and fetched
through a file:// bare remote, sha256 checked, git-lfs required to move them."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from helpers.gitcli import git

from gitreg import locate
from gitreg.errors import ConflictError, GitError, IntegrityError, InvalidInputError
from gitreg.pyfunc import materialized
from gitreg.registry import Package, Registry
from gitreg.store import lfs
from gitreg.store.gc import GRACE_SECONDS
from gitreg.uri import parse

BIG = 64 * 1024


def _package(root: Path, big: bytes) -> Package:
    root.mkdir(parents=True, exist_ok=True)
    (root / "weights.bin").write_bytes(big)
    (root / "small.txt").write_text("small")
    return Package(root=root, files=("weights.bin", "small.txt"), flavor="python_function")


@pytest.fixture
def origin(bare_registry: Registry, tmp_path: Path) -> Registry:
    """A bare registry whose registry.yaml keeps artifacts over 1000 bytes in LFS,
    configured the way a user would: clone, edit, commit, push."""
    work = tmp_path / "config-work"
    subprocess.run(["git", "clone", "-q", str(bare_registry.path), str(work)], check=True)
    with open(work / "registry.yaml", "a") as fh:
        fh.write("lfs:\n  threshold_bytes: 1000\n")
    git(work, "commit", "-q", "-am", "Keep large artifacts in LFS")
    git(work, "push", "-q", "origin", "main")
    return bare_registry


def _lfs_objects(git_dir: Path) -> list[Path]:
    return sorted((git_dir / "lfs" / "objects").glob("??/??/*"))


def test_large_artifact_is_a_pointer_pushed_and_loaded_through_a_file_remote(
    origin: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"file://{origin.path}"
    big = os.urandom(BIG)
    writer = locate.open_registry(url)
    mv = writer.register("Big", _package(tmp_path / "p1", big))
    ref = origin.version_ref("Big", mv.version)
    pointer = lfs.parse_pointer(origin.store.read_blob(f"{ref.tree}:weights.bin") or b"")
    artifact = next(a for a in ref.manifest.artifacts if a.path == "weights.bin")
    assert pointer is not None and (pointer.sha256, pointer.size) == (artifact.sha256, BIG)
    assert origin.store.read_blob(f"{ref.tree}:small.txt") == b"small"  # under the threshold: a plain blob
    assert [p.name for p in _lfs_objects(origin.path)] == [artifact.sha256]

    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "reader-cache"))  # another machine: fresh mirror
    locate._open.clear()
    loaded = materialized(parse("models:/Big/1"), url)
    assert (loaded / "weights.bin").read_bytes() == big
    reader = locate.open_registry(url)
    assert [p.name for p in _lfs_objects(reader.store.git_dir)] == [artifact.sha256]  # fetched on demand


def test_same_bytes_registered_again_add_no_lfs_object(origin: Registry, tmp_path: Path) -> None:
    reg = locate.open_registry(f"file://{origin.path}")
    big = os.urandom(BIG)
    one = reg.register("Big", _package(tmp_path / "p1", big))
    two = reg.register("Big", _package(tmp_path / "p2", big))
    first, second = (origin.version_ref("Big", v.version) for v in (one, two))
    assert origin.store.read(f"{first.tree}:weights.bin") == origin.store.read(f"{second.tree}:weights.bin")
    assert len(_lfs_objects(origin.path)) == 1


def test_tampered_lfs_object_is_refused_locally_and_in_transfer(
    origin: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"file://{origin.path}"
    writer = locate.open_registry(url)
    writer.register("Big", _package(tmp_path / "p1", os.urandom(BIG)))
    for obj in (*_lfs_objects(writer.store.git_dir), *_lfs_objects(origin.path)):
        obj.chmod(0o644)
        obj.write_bytes(os.urandom(BIG))
    with pytest.raises(IntegrityError, match=r"weights\.bin"):  # the object is local: gitreg's own check
        materialized(parse("models:/Big/1"), url)
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "reader-cache"))
    locate._open.clear()
    with pytest.raises(GitError, match="invalid hash"):  # fetched: git-lfs refuses the download
        materialized(parse("models:/Big/1"), url)
    assert not list((tmp_path / "reader-cache" / "models").glob("*/weights.bin"))


def test_without_git_lfs_the_error_says_so(origin: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"file://{origin.path}"
    locate.open_registry(url).register("Big", _package(tmp_path / "p1", os.urandom(BIG)))
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "reader-cache"))
    locate._open.clear()
    locate.open_registry(url)  # mirror while git-lfs is still around (clone needs only git)
    bin_dir = tmp_path / "bin-without-lfs"
    bin_dir.mkdir()
    os.symlink(shutil.which("git") or "/usr/bin/git", bin_dir / "git")
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(lfs.LFSMissingError, match="git-lfs is not installed"):
        materialized(parse("models:/Big/1"), url)


def test_local_registry_keeps_lfs_objects_in_its_git_dir(origin: Registry, tmp_path: Path) -> None:
    big = os.urandom(BIG)
    mv = origin.register("Local", _package(tmp_path / "p1", big))
    assert (materialized(parse(f"models:/Local/{mv.version}"), origin) / "weights.bin").read_bytes() == big


def test_invalid_threshold_is_refused_and_nothing_changes(bare_registry: Registry, tmp_path: Path) -> None:
    work = tmp_path / "w"
    subprocess.run(["git", "clone", "-q", str(bare_registry.path), str(work)], check=True)
    with open(work / "registry.yaml", "a") as fh:
        fh.write("lfs:\n  threshold_bytes: lots\n")
    git(work, "commit", "-q", "-am", "bad")
    git(work, "push", "-q", "origin", "main")
    before = git(bare_registry.path, "for-each-ref")
    with pytest.raises(InvalidInputError, match="threshold_bytes"):
        bare_registry.register("Big", _package(tmp_path / "p1", b"x" * 10))
    assert git(bare_registry.path, "for-each-ref") == before


def test_cloned_registry_push_carries_lfs_objects(
    origin: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitreg import sync

    clone, _ = sync.clone(f"file://{origin.path}", tmp_path / "clone")
    big = os.urandom(BIG)
    clone.register("Big", _package(tmp_path / "p1", big))
    sync.push(clone)
    assert len(_lfs_objects(origin.path)) == 1
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "reader-cache"))
    assert (materialized(parse("models:/Big/1"), f"file://{origin.path}") / "weights.bin").read_bytes() == big


def test_gitreg_check_verifies_lfs_artifacts_by_their_pointer(origin: Registry, tmp_path: Path) -> None:
    from gitreg.check import check_registry

    writer = locate.open_registry(f"file://{origin.path}")
    writer.register("Big", _package(tmp_path / "p1", os.urandom(BIG)))
    assert check_registry(origin.store) == []


def test_an_artifact_of_exactly_the_threshold_goes_to_lfs_and_one_byte_less_stays_a_blob(
    origin: Registry, tmp_path: Path
) -> None:
    reg = locate.open_registry(f"file://{origin.path}")
    root = tmp_path / "edge"
    root.mkdir()
    (root / "at.bin").write_bytes(os.urandom(1000))
    (root / "under.bin").write_bytes(os.urandom(999))
    mv = reg.register("Edge", Package(root=root, files=("at.bin", "under.bin"), flavor="python_function"))
    ref = origin.version_ref("Edge", mv.version)
    assert lfs.parse_pointer(origin.store.read_blob(f"{ref.tree}:at.bin") or b"") is not None  # "10 MB and more"
    assert len(origin.store.read_blob(f"{ref.tree}:under.bin") or b"") == 999


def test_a_write_storing_bytes_already_there_touches_the_lfs_object_so_gc_sees_it_as_new(
    bare_registry: Registry, tmp_path: Path
) -> None:
    source = tmp_path / "same.bin"
    source.write_bytes(os.urandom(BIG))
    _, sha, _ = lfs.store_file(bare_registry.store, source)
    old = time.time() - GRACE_SECONDS - 60
    os.utime(lfs.object_path(bare_registry.store, sha), (old, old))
    lfs.store_file(bare_registry.store, source)
    assert time.time() - lfs.object_path(bare_registry.store, sha).stat().st_mtime < 60


def _name_lfs_server(bare: Registry, lfs_url: str, tmp_path: Path) -> None:
    """Commit ``.lfsconfig`` naming ``lfs_url`` on main, the way a user would: clone, edit, commit, push."""
    work = tmp_path / "lfsconfig-work"
    subprocess.run(["git", "clone", "-q", str(bare.path), str(work)], check=True)
    git(work, "config", "-f", ".lfsconfig", "lfs.url", lfs_url)
    git(work, "add", ".lfsconfig")
    git(work, "commit", "-q", "-m", "Keep large artifacts on our LFS server")
    git(work, "push", "-q", "origin", "main")


def _log_fetches(mirror: Path, tmp_path: Path) -> Path:
    """Serve the mirror's fetches through a ``git-upload-pack`` that appends a line to a log
    each time it runs (once per fetch, git's own lazy ones too); the log's path."""
    log = tmp_path / "fetches.log"
    wrapper = tmp_path / "logging-upload-pack"
    wrapper.write_text(f'#!/bin/sh\necho fetch >> "{log}"\nexec git-upload-pack "$@"\n')
    wrapper.chmod(0o755)
    git(mirror, "config", "remote.origin.uploadpack", str(wrapper))
    return log


def test_an_lfs_load_from_a_warm_mirror_makes_one_fetch_and_honours_the_lfsconfig(
    origin: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lfs_store = tmp_path / "lfs-store.git"
    git(tmp_path, "init", "-q", "--bare", str(lfs_store))
    _name_lfs_server(origin, f"file://{lfs_store}", tmp_path)
    url = f"file://{origin.path}"
    big = os.urandom(BIG)
    locate.open_registry(url).register("Big", _package(tmp_path / "p1", big))
    assert len(_lfs_objects(lfs_store)) == 1 and not _lfs_objects(origin.path)  # where .lfsconfig says
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "reader-cache"))
    locate._open.clear()
    fetches = _log_fetches(locate.open_registry(url).store.git_dir, tmp_path)  # a warm mirror

    loaded = materialized(parse("models:/Big/1"), url)

    assert (loaded / "weights.bin").read_bytes() == big
    assert fetches.read_text().splitlines() == ["fetch"]  # the version's blobs, in one batch: no lazy fetch


def test_a_write_whose_lfs_object_left_the_store_before_its_upload_is_refused_and_uploads_nothing(
    origin: Registry, tmp_path: Path
) -> None:
    reg = locate.open_registry(f"file://{origin.path}")
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(BIG))
    _, sha, _ = lfs.store_file(reg.store, source)
    lfs.object_path(reg.store, sha).unlink()  # what a gc in another process does to an object it knows is uploaded
    with pytest.raises(ConflictError, match="Register again"):
        lfs.push_objects(reg.store, "origin", [sha])
    assert not _lfs_objects(origin.path)
