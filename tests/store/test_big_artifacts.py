"""Big artifacts never break the transport: new registries keep files over
10 MB in Git LFS, no registration writes a plain blob of 100 MB or more, and a
reader fetches the LFS objects of the version it loads and no others (a
file:// remote: git-lfs's standalone file transfer)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.gitcli import git

from gitreg import locate, yamlio
from gitreg.config import DEFAULT_LFS_THRESHOLD, MAX_PLAIN_BLOB
from gitreg.pyfunc import materialized
from gitreg.registry import Package, Registry
from gitreg.store import lfs
from gitreg.store.objects import compression_level
from gitreg.uri import parse


def _package(root: Path, name: str, size: int, *, sparse: bool = False) -> Package:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / name, "wb") as fh:
        if sparse:
            fh.truncate(size)  # zeros, without writing them
        else:
            fh.write(os.urandom(size))
    return Package(root=root, files=(name,), flavor="python_function")


def _lfs_objects(git_dir: Path) -> set[str]:
    return {p.name for p in (git_dir / "lfs" / "objects").glob("??/??/*")}


def _without_threshold(bare: Registry, tmp_path: Path) -> None:
    """Drop ``lfs:`` from registry.yaml the way a user would: clone, edit, commit, push."""
    work = tmp_path / "config-work"
    subprocess.run(["git", "clone", "-q", str(bare.path), str(work)], check=True)
    config = yamlio.load_mapping((work / "registry.yaml").read_text(), "registry.yaml")
    config.pop("lfs")
    (work / "registry.yaml").write_text(yamlio.dump(config))
    git(work, "commit", "-q", "-am", "No LFS threshold")
    git(work, "push", "-q", "origin", "main")


def test_init_keeps_artifacts_over_10_mb_in_lfs(tmp_path: Path) -> None:
    for bare in (False, True):
        reg = Registry.init(tmp_path / f"reg-{bare}", bare=bare)
        assert reg.store.read_blob("refs/heads/main:registry.yaml")
        assert reg.reader.config().lfs_threshold == DEFAULT_LFS_THRESHOLD == 10 * 1024 * 1024


def test_a_file_of_100_mb_goes_to_lfs_even_without_a_threshold(bare_registry: Registry, tmp_path: Path) -> None:
    _without_threshold(bare_registry, tmp_path)
    assert bare_registry.reader.config().lfs_threshold is None
    mv = bare_registry.register("Huge", _package(tmp_path / "p", "weights.bin", MAX_PLAIN_BLOB, sparse=True))
    ref = bare_registry.version_ref("Huge", mv.version)
    pointer = lfs.parse_pointer(bare_registry.store.read_blob(f"{ref.tree}:weights.bin") or b"")
    assert pointer is not None and pointer.size == MAX_PLAIN_BLOB
    assert _lfs_objects(bare_registry.path) == {pointer.sha256}


def test_a_file_of_100_mb_is_refused_without_git_lfs(
    bare_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = _package(tmp_path / "p", "weights.bin", MAX_PLAIN_BLOB, sparse=True)
    bin_dir = tmp_path / "bin-without-lfs"
    bin_dir.mkdir()
    os.symlink(shutil.which("git") or "/usr/bin/git", bin_dir / "git")
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(lfs.LFSMissingError, match="Install git-lfs") as caught:
        bare_registry.register("Huge", package)
    assert "weights.bin" in str(caught.value) and "100 MB" in str(caught.value)
    assert bare_registry.model_names() == []
    assert not _lfs_objects(bare_registry.path)


def test_a_reader_fetches_only_the_lfs_objects_of_the_version_it_loads(
    bare_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"file://{bare_registry.path}"
    writer = locate.open_registry(url)
    size = DEFAULT_LFS_THRESHOLD + 1
    for v in (1, 2, 3):
        writer.register("Big", _package(tmp_path / f"p{v}", "weights.bin", size))
    shas = {v: bare_registry.version_ref("Big", v).manifest.artifacts[0].sha256 for v in (1, 2, 3)}
    assert _lfs_objects(bare_registry.path) == set(shas.values())  # pushed before the refs

    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "reader-cache"))  # another machine
    locate._open.clear()
    loaded = materialized(parse("models:/Big/2"), url)
    assert (loaded / "weights.bin").stat().st_size == size
    reader = locate.open_registry(url)
    assert _lfs_objects(reader.store.git_dir) == {shas[2]}


_MEASURE = """
import resource, sys
from pathlib import Path
from gitreg.cache import materialize
from gitreg.registry import Package, Registry

reg = Registry.open(sys.argv[1])

def register_and_load(root):
    mv = reg.register("Big", Package(root=Path(root), files=("weights.bin",), flavor="python_function"))
    ref = reg.version_ref("Big", mv.version)
    return materialize(reg.store, ref.tree, ref.manifest, "Big") / "weights.bin"

register_and_load(sys.argv[2])  # imports and first-use costs, on a small file
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
loaded = register_and_load(sys.argv[3])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(loaded.stat().st_size, (after - before) * 1024)
"""


@pytest.mark.parametrize(
    ("size", "threshold", "bound"),
    [(200 * 1024 * 1024, True, 100 * 1024 * 1024), (MAX_PLAIN_BLOB - 1, False, 50 * 1024 * 1024)],
    ids=["200MB-in-lfs", "99MB-plain-blob"],
)
def test_registering_and_materialising_do_not_hold_an_artifact_in_memory(
    bare_registry: Registry, tmp_path: Path, size: int, threshold: bool, bound: int
) -> None:
    if not threshold:
        _without_threshold(bare_registry, tmp_path)
    small = _package(tmp_path / "small", "weights.bin", 1000).root
    big = _package(tmp_path / "big", "weights.bin", size, sparse=True).root
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(bare_registry.path), str(small), str(big)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert int(out[0]) == size
    assert int(out[1]) < bound, f"peak RSS grew by {int(out[1]):,} bytes for a {size:,}-byte artifact"


def test_incompressible_content_is_stored_without_deflating_and_git_reads_it(
    bare_registry: Registry, tmp_path: Path
) -> None:
    """zlib level 0 for bytes that do not compress (deflating them cost most of a registration and
    saved nothing): git reads the object back and fsck accepts it; compressible content is deflated."""
    random, zeros = tmp_path / "random.bin", tmp_path / "zeros.bin"
    random.write_bytes(os.urandom(3 << 20))
    zeros.write_bytes(bytes(3 << 20))
    assert (compression_level(random, 3 << 20), compression_level(zeros, 3 << 20)) == (0, 1)
    for source, at_most in ((random, (3 << 20) + 1024), (zeros, 64 << 10)):
        oid, _, size = bare_registry.store.write_file(source)
        assert size == 3 << 20
        assert (bare_registry.path / "objects" / oid[:2] / oid[2:]).stat().st_size < at_most
        shown = subprocess.run(["git", "-C", str(bare_registry.path), "cat-file", "blob", oid], capture_output=True)
        assert shown.stdout == source.read_bytes()
    git(bare_registry.path, "fsck", "--strict", "--no-dangling")
