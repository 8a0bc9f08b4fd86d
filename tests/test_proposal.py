"""Promotion through pull requests: the proposal branch, and every way a
forge merges it, performed with git itself on a bare remote."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers.gitcli import git, refs

from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.registry import Package, Registry
from gitreg.store import RefUpdate
from gitreg.testing import run_cli


def _package(root: Path, payload: bytes, **metrics: float) -> Package:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.bin").write_bytes(payload)
    return Package(root=root, files=("data.bin",), flavor="python_function", metrics=metrics)


@pytest.fixture
def origin(bare_registry: Registry, tmp_path: Path) -> Registry:
    """A bare registry: M v1 (accuracy 0.8) in Production, M v2 (accuracy 0.9) registered."""
    bare_registry.register("M", _package(tmp_path / "p1", b"one", accuracy=0.8))
    bare_registry.register("M", _package(tmp_path / "p2", b"two", accuracy=0.9))
    bare_registry.register("Other", _package(tmp_path / "o1", b"other"))
    bare_registry.promote("M", 1, "Production")
    return bare_registry


def test_proposal_is_one_commit_on_the_stage_changing_only_the_model(origin: Registry) -> None:
    stage_head = origin.store.ref("refs/heads/stages/production")
    made = origin.propose("M", 2, "Production")
    assert made.branch == "promote/production/M-v2"
    assert made.base == stage_head
    assert origin.store.ref("refs/heads/stages/production") == stage_head  # the stage itself did not move
    assert git(origin.path, "rev-list", "--parents", "-n1", made.branch).split() == [made.commit, stage_head]
    changed = git(origin.path, "diff", "--name-only", stage_head, made.commit).split()
    assert changed and all(p.startswith("models/M/") for p in changed)
    assert origin.store.tree_oid(f"{made.commit}:models/M") == origin.version_ref("M", 2).tree
    assert "version 1 -> 2" in made.message and "accuracy: 0.8 -> 0.9 (+0.1)" in made.message


@pytest.mark.parametrize("strategy", ["merge", "squash", "rebase", "fast-forward"])
def test_every_forge_merge_resolves_the_stage_and_revert_rolls_back(
    origin: Registry, tmp_path: Path, strategy: str
) -> None:
    made = origin.propose("M", 2, "Production")
    if strategy != "fast-forward":  # the stage moves on while the pull request waits
        origin.promote("Other", 1, "Production")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", f"file://{origin.path}", str(work)], check=True)
    git(work, "checkout", "-q", "stages/production")
    git(work, "fetch", "-q", "origin", f"{made.branch}:{made.branch}")
    if strategy == "merge":
        git(work, "merge", "--no-ff", "-q", "-m", "Merge pull request #1", made.branch)
        revert = ["revert", "--no-edit", "-m", "1", "HEAD"]
    elif strategy == "squash":
        git(work, "merge", "--squash", "-q", made.branch)
        git(work, "commit", "-q", "-m", "Promote M v2 (#1)")
        revert = ["revert", "--no-edit", "HEAD"]
    elif strategy == "rebase":
        git(work, "checkout", "-q", made.branch)
        git(work, "rebase", "-q", "stages/production")
        git(work, "checkout", "-q", "stages/production")
        git(work, "merge", "--ff-only", "-q", made.branch)
        revert = ["revert", "--no-edit", "HEAD"]
    else:
        git(work, "merge", "--ff-only", "-q", made.branch)
        revert = ["revert", "--no-edit", "HEAD"]
    git(work, "push", "-q", "origin", "stages/production")
    ref = origin.stage_ref_version("M", "production")
    assert ref is not None and ref.version == 2
    if strategy != "fast-forward":
        other = origin.stage_ref_version("Other", "production")
        assert other is not None and other.version == 1  # the other model's promotion survived the merge
    git(work, *revert)
    git(work, "push", "-q", "origin", "stages/production")
    ref = origin.stage_ref_version("M", "production")
    assert ref is not None and ref.version == 1


def test_proposal_for_a_stage_without_a_branch_creates_it_empty(origin: Registry) -> None:
    made = origin.propose("M", 2, "champion")
    assert made.created_stage
    assert origin.store.ref("refs/heads/stages/champion") == made.base
    assert origin.stages_of("M").get("champion") is None  # nothing promoted until the merge
    origin.store.update_refs([RefUpdate("refs/heads/stages/champion", made.commit, made.base)])  # a fast-forward merge
    ref = origin.stage_ref_version("M", "champion")
    assert ref is not None and ref.version == 2


def test_proposal_refused_when_stage_already_holds_the_version_changes_nothing(origin: Registry) -> None:
    before = refs(origin.store.git_dir)
    with pytest.raises(InvalidInputError, match="already in Production"):
        origin.propose("M", 1, "Production")
    with pytest.raises(NotFoundError):
        origin.propose("M", 9, "Production")
    with pytest.raises(InvalidInputError):
        origin.propose("M", 2, "None")
    assert refs(origin.store.git_dir) == before


def test_cli_propose_push_from_a_clone_names_the_branches(origin: Registry, tmp_path: Path, env: dict) -> None:
    url = f"file://{origin.path}"
    assert run_cli("clone", url, str(tmp_path / "clone"), env=env).returncode == 0
    done = run_cli("promote", "M", "2", "Production", "--propose", "--push", "-r", str(tmp_path / "clone"), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"Pushed promote/production/M-v2 to {url}; "
        "open a pull request from promote/production/M-v2 into stages/production."
    )
    assert origin.store.ref("refs/heads/promote/production/M-v2") is not None
    assert origin.stage_ref_version("M", "production").version == 1  # type: ignore[union-attr]


def test_cli_push_without_propose_is_a_usage_error(origin: Registry, env: dict) -> None:
    before = refs(origin.store.git_dir)
    done = run_cli("promote", "M", "2", "Production", "--push", "-r", str(origin.path), env=env)
    assert done.returncode == 2 and "--propose" in done.stderr
    assert refs(origin.store.git_dir) == before


def test_cli_propose_on_a_url_registry_pushes_without_asking(origin: Registry, env: dict) -> None:
    url = f"file://{origin.path}"
    done = run_cli("-r", url, "promote", "M", "2", "Production", "--propose", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Pushed promote/production/M-v2 to {url}")
    assert origin.store.ref("refs/heads/promote/production/M-v2") is not None
