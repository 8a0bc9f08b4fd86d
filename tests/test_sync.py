"""Cloned registries: clone, pull and push against a bare origin."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.gitcli import refs

from gitreg import locate, sync
from gitreg.errors import ConflictError, InvalidInputError
from gitreg.registry import Package, Registry
from gitreg.testing import run_cli


def _package(root: Path, payload: bytes) -> Package:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.bin").write_bytes(payload)
    return Package(root=root, files=("data.bin",), flavor="python_function")


@pytest.fixture
def origin(bare_registry: Registry, tmp_path: Path) -> Registry:
    bare_registry.register("M", _package(tmp_path / "p1", b"one"))
    bare_registry.promote("M", 1, "Staging")
    return bare_registry


@pytest.fixture
def clone(origin: Registry, tmp_path: Path) -> Registry:
    reg, _ = sync.clone(f"file://{origin.path}", tmp_path / "clone")
    return reg


def test_clone_has_stages_tags_and_a_work_tree(clone: Registry) -> None:
    assert clone.stages_of("M") == {"staging": 1}
    assert clone.version_numbers("M") == [1]
    assert (clone.path / "models" / "M" / "data.bin").read_bytes() == b"one"


def test_pull_fast_forwards_and_keeps_uncommitted_edits(origin: Registry, clone: Registry, tmp_path: Path) -> None:
    (clone.path / "notes.txt").write_text("mine")
    readme = clone.path / "README.md"
    readme.write_text(readme.read_text() + "my edit\n")
    origin.register("M", _package(tmp_path / "p2", b"two"))
    origin.promote("M", 2, "Production")
    result = sync.pull(clone)
    assert result.branches == ("main", "stages/production") and result.tags == ("M/v2",)
    assert clone.stages_of("M") == {"staging": 1, "production": 2}
    assert (clone.path / "models" / "M" / "data.bin").read_bytes() == b"two"
    assert readme.read_text().endswith("my edit\n") and (clone.path / "notes.txt").read_text() == "mine"
    assert sync.pull(clone).changed is False


def test_pull_keeps_an_edit_the_update_would_overwrite_and_warns(
    origin: Registry, clone: Registry, tmp_path: Path
) -> None:
    edited = clone.path / "models" / "M" / "data.bin"
    edited.write_bytes(b"hand edit")
    origin.register("M", _package(tmp_path / "p2", b"two"))
    result = sync.pull(clone)
    assert result.warnings and "edits are kept" in result.warnings[0]
    assert edited.read_bytes() == b"hand edit"
    assert clone.version_numbers("M") == [1, 2]  # the refs moved; only the work tree waits


def test_push_sends_new_versions_and_stage_moves_atomically(origin: Registry, clone: Registry, tmp_path: Path) -> None:
    clone.register("M", _package(tmp_path / "p2", b"two"))
    clone.promote("M", 2, "Production")
    result = sync.push(clone)
    assert set(result.branches) == {"main", "stages/production"} and result.tags == ("M/v2",)
    assert origin.version_numbers("M") == [1, 2]
    assert origin.stages_of("M") == {"staging": 1, "production": 2}
    assert sync.push(clone).changed is False


def test_diverged_clone_is_refused_by_pull_and_push_and_nothing_changes(
    origin: Registry, clone: Registry, tmp_path: Path
) -> None:
    origin.register("M", _package(tmp_path / "theirs", b"theirs"))
    clone.register("M", _package(tmp_path / "ours", b"ours"))  # both made version 2
    ours_before = refs(clone.store.git_dir, "refs/heads/") + refs(clone.store.git_dir, "refs/tags/")
    origin_before = refs(origin.store.git_dir)
    with pytest.raises(ConflictError, match="main"):
        sync.pull(clone)
    with pytest.raises(ConflictError, match="main"):
        sync.push(clone)
    assert refs(clone.store.git_dir, "refs/heads/") + refs(clone.store.git_dir, "refs/tags/") == ours_before
    assert refs(origin.store.git_dir) == origin_before


def test_push_and_pull_refuse_a_url_registry(origin: Registry) -> None:
    reg = locate.open_registry(f"file://{origin.path}")
    with pytest.raises(InvalidInputError, match="clone"):
        sync.push(reg)


def test_cli_clone_push_pull_each_print_one_line(origin: Registry, tmp_path: Path, env: dict) -> None:
    url = f"file://{origin.path}"
    cloned = run_cli("clone", url, str(tmp_path / "c"), env=env)
    assert cloned.returncode == 0, cloned.stderr
    assert cloned.stdout.count("\n") == 1 and "1 model" in cloned.stdout
    pulled = run_cli("pull", "-r", str(tmp_path / "c"), env=env)
    assert pulled.stdout == f"Already up to date with {url}.\n"
    pushed = run_cli("push", "-r", str(tmp_path / "c"), env=env)
    assert pushed.stdout.startswith("Nothing to push")
    refused = run_cli("clone", url, str(tmp_path / "c"), env=env)
    assert refused.returncode == 1 and "not an empty directory" in refused.stderr
    missing = run_cli("clone", f"file://{tmp_path}/nope.git", str(tmp_path / "d"), env=env)
    assert missing.returncode == 1 and not (tmp_path / "d").exists()


def test_diverged_pull_prints_advice_that_run_literally_recovers_the_clone(
    origin: Registry, clone: Registry, tmp_path: Path, env: dict
) -> None:
    import os
    import subprocess
    import sys

    from helpers.invariants import worktree_problems

    origin.register("M", _package(tmp_path / "theirs", b"theirs"))
    clone.register("M", _package(tmp_path / "ours", b"ours"))  # both made version 2
    clone.register("M", _package(tmp_path / "ours3", b"ours3"))  # and ours went on to 3
    clone.promote("M", 3, "Staging")
    ours = clone.store.ref("refs/heads/main")
    refused = run_cli("pull", "-r", str(clone.path), env=env)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    advice = refused.stderr.split("run: ", 1)[1].split(" (then re-register", 1)[0]
    path = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(advice, shell=True, capture_output=True, text=True, env={**env, "PATH": path})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("Pulled 1 tag")
    fresh = Registry(clone.store.open(clone.path))
    assert fresh.version_numbers("M") == [1, 2] and fresh.stages_of("M") == {"staging": 1}
    assert (clone.path / "models" / "M" / "data.bin").read_bytes() == b"theirs"
    assert worktree_problems(clone.path) == []
    assert clone.store.ref("refs/heads/local/main") == ours  # this clone's versions are kept aside
    assert run_cli("push", "-r", str(clone.path), env=env).stdout.startswith("Nothing to push")
    assert run_cli("pull", "-r", str(clone.path), env=env).stdout.startswith("Already up to date")
