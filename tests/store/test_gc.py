"""gitreg gc: a URL registry's mirror drops the blobs it no longer needs
locally; a local registry loses no object; a registry being written is left alone."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitreg import locate
from gitreg.cli.gc_cmds import gc
from gitreg.errors import ConflictError
from gitreg.materialize import materialized
from gitreg.registry import Package, Registry
from gitreg.remote import RemoteRegistry, collect_garbage
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
