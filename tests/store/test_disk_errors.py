"""A full or read-only disk under the registry is one line on stderr that
says what to do, the registry is left as it was, and a work tree the disk
could not update is reported as such (not as "your edits")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.gitcli import refs
from helpers.invariants import fsck_problems, worktree_problems

from gitreg.errors import ReadOnlyError, StorageError
from gitreg.registry import Registry
from gitreg.store import RefUpdate
from gitreg.store.repo import storage_error_in
from gitreg.testing import file_package

GITREG = str(Path(sys.executable).with_name("gitreg"))


class SmallDisk:
    """A real 2 MiB tmpfs, resizable and remountable read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def remount(self, option: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{option}", str(self.path)], check=True, capture_output=True)

    def fill(self) -> None:
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\xff" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    path = tmp_path / "disk"
    path.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"needs a small real file system and mounting one is not permitted here: {proc.stderr!r}")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _model(saved_model: Path, where: Path, extra: bytes) -> Path:
    shutil.copytree(saved_model, where)
    (where / "weights.bin").write_bytes(extra)
    return where


def _gitreg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GITREG, *args], capture_output=True, text=True, env=env, timeout=120)


def test_register_onto_a_full_disk_is_one_line_and_registers_nothing(
    disk: SmallDisk, saved_model: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    reg = Registry.init(disk.path / "registry")
    before = refs(reg.store.git_dir)
    big = _model(saved_model, tmp_path / "big", os.urandom(3_000_000))  # incompressible: more than the disk
    proc = _gitreg("-r", str(reg.path), "register", "M", str(big), env=env)
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"Error: No space left on device while writing {reg.path}/.git/objects/")
    assert line.endswith(": free space and try again; nothing was registered.")
    assert refs(reg.store.git_dir) == before and fsck_problems(reg.path) == []
    assert not list((reg.path / ".git" / "objects").glob("**/tmp_obj_*"))  # its temporary file went too


def test_promote_onto_a_full_disk_promotes_nothing(disk: SmallDisk, tmp_path: Path, env: dict[str, str]) -> None:
    reg = Registry.init(disk.path / "registry")
    reg.register("M", file_package(tmp_path / "p", {"data.bin": "one"}))
    before = refs(reg.store.git_dir)
    disk.fill()
    proc = _gitreg("-r", str(reg.path), "promote", "M", "1", "Production", env=env)
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()
    assert line.startswith("Error: No space left on device while writing ")
    assert line.endswith(": free space and try again; nothing was promoted.")
    assert refs(reg.store.git_dir) == before


def test_read_only_registry_says_whose_it_is_and_what_to_do(
    disk: SmallDisk, tmp_path: Path, saved_model: Path, env: dict[str, str]
) -> None:
    reg = Registry.init(disk.path / "registry")
    before = refs(reg.store.git_dir)
    disk.remount("ro")
    try:
        proc = _gitreg("-r", str(reg.path), "register", "M", str(saved_model), env=env)
    finally:
        disk.remount("rw")
    assert proc.returncode == 1
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"Error: the registry at {reg.path} is read-only for you (read-only file system")
    assert "register into a clone you can write" in line and line.endswith("nothing was registered.")
    assert refs(reg.store.git_dir) == before


def test_a_full_disk_reported_by_git_itself_is_a_storage_error(disk: SmallDisk, tmp_path: Path) -> None:
    reg = Registry.init(disk.path / "registry")
    head = reg.store.ref("refs/heads/main")
    disk.fill()
    with pytest.raises(StorageError, match="No space left on device") as raised:
        reg.store.update_refs([RefUpdate("refs/heads/stages/x", head, None)])  # git writes the ref's lock
    assert "free space and try again" in str(raised.value)
    assert reg.store.ref("refs/heads/stages/x") is None


def test_a_work_tree_the_disk_cannot_hold_is_reported_and_the_next_write_finishes_it(
    disk: SmallDisk, tmp_path: Path
) -> None:
    reg = Registry.init(disk.path / "registry")
    # compresses to a few KiB in git, but checked out it needs more than the disk
    version = reg.register("M", file_package(tmp_path / "p", {"data.bin": b"a" * 3_000_000})).version
    assert version == 1 and reg.version_numbers("M") == [1]  # registered: the refs moved
    [warning] = reg.warnings
    assert "the work tree was not updated: No space left on device" in warning
    assert "edits" not in warning
    assert "the next write to the registry brings it along" in warning
    disk.remount("size=16m")
    reg.warnings.clear()
    reg.register("Other", file_package(tmp_path / "q", {"data.bin": "two"}))
    assert reg.warnings == [] and worktree_problems(reg.path) == []
    assert (reg.path / "models" / "M" / "data.bin").read_bytes() == b"a" * 3_000_000


def test_git_messages_are_classified_once_and_a_remote_refusal_is_not_the_disk(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    ro = storage_error_in("fatal: Unable to create '/r/.git/index.lock': Read-only file system", root)
    assert isinstance(ro, ReadOnlyError) and f"the registry at {root} is read-only" in str(ro)
    long = storage_error_in("error: unable to create file models/x: File name too long", root)
    assert long is not None and str(long).startswith("path too long: ")
    assert storage_error_in("git@host: Permission denied (publickey).", root) is None
    assert storage_error_in("fatal: bad object HEAD", root) is None
