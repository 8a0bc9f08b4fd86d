"""Sources being registered: only regular files inside the source are taken.
Symlinks (above all ones pointing outside), devices, FIFOs and other special
files are refused naming the file, so registration never reads outside the
source; huge, empty and unreadable inputs are handled. Tests run as root,
where chmod 000 does not stop reading: that case is skipped there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitreg import package
from gitreg.errors import InvalidInputError
from gitreg.registry import Registry


@pytest.fixture
def source(saved_model: Path) -> Path:
    return saved_model


def refused(src: Path, reg: Registry, *words: str) -> None:
    before = reg.store.ref("refs/heads/main")
    with pytest.raises(InvalidInputError) as info:
        pkg, _ = package.from_source(src)
        reg.register("m", pkg)
    for w in words:
        assert w in str(info.value)
    assert reg.store.ref("refs/heads/main") == before


def test_symlink_to_a_file_outside_the_source_is_refused(source: Path, bare_registry: Registry, tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not register me")
    (source / "leak.txt").symlink_to(secret)
    refused(source, bare_registry, "leak.txt", "symbolic link")


def test_symlinked_directory_is_refused(source: Path, bare_registry: Registry, tmp_path: Path):
    (tmp_path / "outside").mkdir()
    (source / "data").symlink_to(tmp_path / "outside")
    refused(source, bare_registry, "data", "symbolic link")


def test_symlink_to_dev_null_and_a_fifo_are_refused(source: Path, bare_registry: Registry):
    (source / "null").symlink_to("/dev/null")
    refused(source, bare_registry, "null")
    (source / "null").unlink()
    os.mkfifo(source / "pipe")  # reading it would block forever
    refused(source, bare_registry, "pipe", "not a regular file")


def test_source_that_is_itself_a_symlink_is_refused(source: Path, bare_registry: Registry, tmp_path: Path):
    link = tmp_path / "link"
    link.symlink_to(source)
    refused(link, bare_registry, "symbolic link")


def test_empty_directories_are_ignored(source: Path, bare_registry: Registry):
    (source / "empty" / "deeper").mkdir(parents=True)
    pkg, _ = package.from_source(source)
    mv = bare_registry.register("m", pkg)
    assert not any(a.path.startswith("empty") for a in bare_registry.version_ref("m", mv.version).manifest.artifacts)


@pytest.mark.slow
def test_sparse_two_gigabyte_file_registers_with_its_size_and_hash(source: Path, bare_registry: Registry):
    big = source / "weights.bin"
    with open(big, "wb") as fh:
        fh.truncate(2 * 1024**3)
    pkg, _ = package.from_source(source)
    mv = bare_registry.register("m", pkg)
    artifact = bare_registry.version_ref("m", mv.version).manifest.artifact("weights.bin")
    assert artifact is not None and artifact.size == 2 * 1024**3


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_refused(source: Path, bare_registry: Registry):
    (source / "private.bin").write_bytes(b"x")
    os.chmod(source / "private.bin", 0)
    refused(source, bare_registry, "private.bin", "not readable")
