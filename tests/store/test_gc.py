"""gitreg gc: a URL registry's mirror drops the blobs it no longer needs
locally; a local registry loses no object; a registry being written is left alone."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers.gitcli import git

from gitreg import locate
from gitreg.cli.gc_cmds import gc
from gitreg.errors import ConflictError
from gitreg.materialize import materialized
from gitreg.registry import Package, Registry
from gitreg.remote import RemoteRegistry, collect_garbage
from gitreg.store import gc as store_gc
from gitreg.store import lfs
from gitreg.uri import parse


def _package(root: Path, payload: bytes) -> Package:
    root.mkdir(parents=True, exist_ok=True)
    (root / "model.bin").write_bytes(payload)
    return Package(root=root, files=("model.bin",), flavor="python_function")


def _present(git_dir: Path) -> set[str]:
    """Every object in the repository, asking no remote."""
    out = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch-all-objects", "--batch-check=%(objectname)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def _artifact_blob(origin: Registry, version: int) -> str:
    blob = origin.store.blob_ids([f"{origin.version_ref('M', version).tree}:model.bin"])
    return blob[0]


def _url_registry_of_five(bare: Registry, tmp_path: Path) -> RemoteRegistry:
    """Five versions registered through the URL, so the mirror holds every one's blob."""
    reg = locate.open_registry(f"file://{bare.path}")
    assert isinstance(reg, RemoteRegistry)
    for v in range(1, 6):
        reg.register("M", _package(tmp_path / f"p{v}", f"version {v} ".encode() * 100))
    return reg


def test_gc_leaves_a_mirror_only_the_blobs_of_loaded_versions_and_they_still_load_offline(
    bare_registry: Registry, tmp_path: Path
) -> None:
    reg = _url_registry_of_five(bare_registry, tmp_path)
    materialized(parse("models:/M/1"), reg)
    materialized(parse("models:/M/5"), reg)
    blobs = {v: _artifact_blob(bare_registry, v) for v in range(1, 6)}
    assert set(blobs.values()) <= _present(reg.store.git_dir)

    got = collect_garbage(reg)

    present = _present(reg.store.git_dir)
    assert not {blobs[v] for v in (2, 3, 4)} & present
    assert {blobs[1], blobs[5]} <= present
    assert got.dropped >= 3 and got.after < got.before
    shutil.move(bare_registry.path, tmp_path / "away.git")  # offline from here
    locate._open.clear()
    offline = locate.open_registry(f"file://{bare_registry.path}")
    assert (materialized(parse("models:/M/1"), offline) / "model.bin").read_bytes().startswith(b"version 1 ")
    assert (materialized(parse("models:/M/5"), offline) / "model.bin").read_bytes().startswith(b"version 5 ")
    assert offline.version_numbers("M") == [1, 2, 3, 4, 5]


def test_after_gc_the_mirror_fetches_a_dropped_version_again_and_still_writes(
    bare_registry: Registry, tmp_path: Path
) -> None:
    reg = _url_registry_of_five(bare_registry, tmp_path)
    collect_garbage(reg)
    assert _artifact_blob(bare_registry, 3) not in _present(reg.store.git_dir)

    assert (materialized(parse("models:/M/3"), reg) / "model.bin").read_bytes().startswith(b"version 3 ")
    assert reg.register("M", _package(tmp_path / "p6", b"six")).version == 6
    assert Registry.open(bare_registry.path).version_numbers("M") == [1, 2, 3, 4, 5, 6]


def test_gc_keeps_the_blobs_of_the_version_a_stage_holds(bare_registry: Registry, tmp_path: Path) -> None:
    reg = _url_registry_of_five(bare_registry, tmp_path)
    reg.promote("M", 3, "Production")

    collect_garbage(reg)

    assert _artifact_blob(bare_registry, 3) in _present(reg.store.git_dir)
    assert _artifact_blob(bare_registry, 2) not in _present(reg.store.git_dir)


def test_gc_of_a_local_registry_keeps_every_object(registry: Registry, tmp_path: Path) -> None:
    for v in range(1, 4):
        registry.register("M", _package(tmp_path / f"p{v}", f"v{v}".encode()))
    registry.promote("M", 2, "Production")
    before = _present(registry.store.git_dir)

    got = collect_garbage(registry)

    assert before <= _present(registry.store.git_dir)
    assert got.kind == "repository"
    assert registry.version_numbers("M") == [1, 2, 3]
    assert registry.stages_of("M") == {"production": 2}


def test_gc_refuses_a_registry_being_written_and_changes_nothing(bare_registry: Registry, tmp_path: Path) -> None:
    reg = _url_registry_of_five(bare_registry, tmp_path)
    lock = reg.store.git_dir / "refs" / "heads" / "main.lock"
    lock.write_text("")
    before = _present(reg.store.git_dir)
    with pytest.raises(ConflictError, match="being written"):
        collect_garbage(reg)
    assert _present(reg.store.git_dir) == before
    lock.unlink()


def test_gc_command_says_what_it_did_in_one_line_and_in_json(bare_registry: Registry, tmp_path: Path) -> None:
    _url_registry_of_five(bare_registry, tmp_path)
    url = f"file://{bare_registry.path}"
    runner = CliRunner()

    line = runner.invoke(gc, ["-r", url])
    assert line.exit_code == 0, line.output
    assert len(line.output.strip().splitlines()) == 1 and "bytes" in line.output
    answer = runner.invoke(gc, ["-r", url, "--json"])
    assert answer.exit_code == 0, answer.output
    got = json.loads(answer.output)
    assert got["kind"] == "mirror" and got["bytes_after"] <= got["bytes_before"]


# -- Git LFS objects -----------------------------------------------------------------------------

BIG = 64 * 1024


def _keep_large_artifacts_in_lfs(bare: Registry, tmp_path: Path, lfsconfig: str | None = None) -> None:
    """Artifacts over 1000 bytes go to LFS (and, given ``lfsconfig``, that file is committed):
    configured the way a user would, clone, edit, commit, push."""
    work = tmp_path / "config-work"
    subprocess.run(["git", "clone", "-q", str(bare.path), str(work)], check=True)
    with open(work / "registry.yaml", "a") as fh:
        fh.write("lfs:\n  threshold_bytes: 1000\n")
    if lfsconfig is not None:
        (work / ".lfsconfig").write_text(lfsconfig)
        git(work, "add", ".lfsconfig")
    git(work, "commit", "-q", "-am", "Keep large artifacts in LFS")
    git(work, "push", "-q", "origin", "main")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lfs_objects(git_dir: Path) -> set[str]:
    return {p.name for p in (git_dir / "lfs" / "objects").glob("??/??/*")}


def _reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> RemoteRegistry:
    """The registry at ``url`` as another machine sees it: a fresh cache, so a fresh mirror."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "reader-cache"))
    locate._open.clear()
    reg = locate.open_registry(url)
    assert isinstance(reg, RemoteRegistry)
    return reg


def _drop_from_cache(reg: RemoteRegistry, version: int) -> None:
    """Evict ``version`` from the materialised cache, as a user clearing disk space would."""
    shutil.rmtree(materialized(parse(f"models:/M/{version}"), reg))


def test_gc_deletes_the_lfs_objects_of_versions_no_longer_needed_and_a_load_fetches_them_again(
    bare_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keep_large_artifacts_in_lfs(bare_registry, tmp_path)
    url = f"file://{bare_registry.path}"
    writer = locate.open_registry(url)
    big = {v: os.urandom(BIG) for v in (1, 2)}
    for v in (1, 2):
        writer.register("M", _package(tmp_path / f"p{v}", big[v]))
    sha = {v: _sha256(big[v]) for v in (1, 2)}
    reader = _reader(tmp_path, monkeypatch, url)
    for v in (1, 2):
        materialized(parse(f"models:/M/{v}"), reader)
    assert _lfs_objects(reader.store.git_dir) == {sha[1], sha[2]}
    _drop_from_cache(reader, 1)  # only version 2 is needed here now

    got = collect_garbage(reader)

    assert _lfs_objects(reader.store.git_dir) == {sha[2]}
    assert got.before - got.after >= BIG
    again = materialized(parse("models:/M/1"), reader)  # fetched again, and its sha256 checked
    assert (again / "model.bin").read_bytes() == big[1]
    assert _lfs_objects(reader.store.git_dir) == {sha[1], sha[2]}
    assert (materialized(parse("models:/M/2"), reader) / "model.bin").read_bytes() == big[2]


def test_gc_keeps_a_new_lfs_object_no_ref_names_until_the_grace_period_is_over(
    bare_registry: Registry, tmp_path: Path
) -> None:
    _keep_large_artifacts_in_lfs(bare_registry, tmp_path)
    reg = locate.open_registry(f"file://{bare_registry.path}")
    assert isinstance(reg, RemoteRegistry)
    source = tmp_path / "in-flight.bin"
    source.write_bytes(os.urandom(BIG))
    _, sha, _ = lfs.store_file(reg.store, source)  # what a write in another process has stored, not pushed yet

    collect_garbage(reg)
    assert sha in _lfs_objects(reg.store.git_dir)

    old = time.time() - store_gc.GRACE_SECONDS - 60
    os.utime(lfs.object_path(reg.store, sha), (old, old))  # that write failed, long ago
    collect_garbage(reg)
    assert sha not in _lfs_objects(reg.store.git_dir)


def test_gc_keeps_the_lfs_objects_of_the_version_a_stage_holds(
    bare_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keep_large_artifacts_in_lfs(bare_registry, tmp_path)
    url = f"file://{bare_registry.path}"
    big = os.urandom(BIG)
    locate.open_registry(url).register("M", _package(tmp_path / "p1", big))
    locate.open_registry(url).promote("M", 1, "Production")
    reader = _reader(tmp_path, monkeypatch, url)
    materialized(parse("models:/M/Production"), reader)
    _drop_from_cache(reader, 1)

    collect_garbage(reader)

    assert _lfs_objects(reader.store.git_dir) == {_sha256(big)}


def test_gc_of_a_local_registry_keeps_its_lfs_objects(bare_registry: Registry, tmp_path: Path) -> None:
    _keep_large_artifacts_in_lfs(bare_registry, tmp_path)
    for v in (1, 2):
        bare_registry.register("M", _package(tmp_path / f"p{v}", os.urandom(BIG)))
    before = _lfs_objects(bare_registry.path)

    collect_garbage(bare_registry)

    assert len(before) == 2 and _lfs_objects(bare_registry.path) == before


def test_gc_keeps_the_lfsconfig_blob_git_lfs_reads_on_every_operation(bare_registry: Registry, tmp_path: Path) -> None:
    _keep_large_artifacts_in_lfs(bare_registry, tmp_path, lfsconfig=f"[lfs]\n\turl = file://{bare_registry.path}\n")
    reg = locate.open_registry(f"file://{bare_registry.path}")
    assert isinstance(reg, RemoteRegistry)
    assert reg.store.read_blob(lfs.CONFIG_SPEC)  # present in the mirror (fetched if it was not)
    (config,) = reg.store.blob_ids([lfs.CONFIG_SPEC])

    collect_garbage(reg)

    assert config in _present(reg.store.git_dir)


def _one_lfs_version_out_of_the_cache(bare_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A big-artifact version registered through LFS, loaded by a reader and evicted from its cache
    (so gc may drop its LFS object); returns the registry's URL."""
    _keep_large_artifacts_in_lfs(bare_registry, tmp_path)
    url = f"file://{bare_registry.path}"
    locate.open_registry(url).register("M", _package(tmp_path / "p1", os.urandom(BIG)))
    reader = _reader(tmp_path, monkeypatch, url)
    _drop_from_cache(reader, 1)
    return url


def test_gc_command_reports_in_one_line_the_lfs_objects_it_dropped(
    bare_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _one_lfs_version_out_of_the_cache(bare_registry, tmp_path, monkeypatch)

    line = CliRunner().invoke(gc, ["-r", url])

    assert line.exit_code == 0, line.output
    assert len(line.output.strip().splitlines()) == 1
    freed = re.search(r"freed ([\d,]+) bytes", line.output)
    assert "1 LFS object(s)" in line.output and freed and int(freed[1].replace(",", "")) >= BIG


def test_gc_command_reports_the_bytes_it_freed(
    bare_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _one_lfs_version_out_of_the_cache(bare_registry, tmp_path, monkeypatch)

    answer = CliRunner().invoke(gc, ["-r", url, "--json"])

    assert answer.exit_code == 0, answer.output
    got = json.loads(answer.output)
    assert got["lfs_objects_dropped"] == 1
    assert got["bytes_freed"] == got["bytes_before"] - got["bytes_after"] >= BIG
