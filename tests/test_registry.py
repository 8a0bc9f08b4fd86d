"""The storage model's invariants, checked against what git itself sees."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers.gitcli import refs

from gitreg import package
from gitreg.errors import AlreadyExistsError, IntegrityError, InvalidInputError, NotFoundError
from gitreg.registry import Registry
from gitreg.store import MODE_FILE, MODE_TREE, RefUpdate
from gitreg.uri import parse


def register(reg: Registry, saved: Path, name: str = "M", **kw: Any) -> Any:
    return reg.register(name, package.from_directory(saved), **kw)


def test_each_version_is_an_annotated_tag_on_a_main_commit_holding_its_subtree(
    registry: Registry, saved_model: Path, git_in: Any
) -> None:
    v1 = register(registry, saved_model)
    v2 = register(registry, saved_model)
    assert (v1.version, v2.version) == (1, 2)
    repo = registry.path
    assert git_in(repo, "cat-file", "-t", "M/v1").strip() == "tag"
    assert git_in(repo, "rev-parse", "M/v2^{commit}").strip() == git_in(repo, "rev-parse", "main").strip()
    assert git_in(repo, "merge-base", "--is-ancestor", "M/v1", "main") == ""
    assert git_in(repo, "rev-parse", "M/v2:models/M").strip() == git_in(repo, "rev-parse", "main:models/M").strip()
    manifest = git_in(repo, "show", "M/v1:models/M/gitreg.yaml")
    assert "version: 1" in manifest and "sha256:" in manifest
    subprocess.run(["git", "-C", str(repo), "fsck", "--strict"], check=True, capture_output=True)


def test_work_tree_shows_each_new_version_and_stays_clean(registry: Registry, saved_model: Path, git_in: Any) -> None:
    register(registry, saved_model)
    assert (registry.path / "models" / "M" / "model.pkl").is_file()
    assert git_in(registry.path, "status", "--porcelain") == ""


def test_uncommitted_edits_in_the_work_tree_survive_a_registration(
    registry: Registry, saved_model: Path, git_in: Any
) -> None:
    (registry.path / "README.md").write_text("my notes\n")
    (registry.path / "scratch.txt").write_text("untracked\n")
    register(registry, saved_model)
    assert (registry.path / "README.md").read_text() == "my notes\n"
    assert (registry.path / "scratch.txt").read_text() == "untracked\n"
    assert (registry.path / "models" / "M" / "gitreg.yaml").is_file()
    assert git_in(registry.path, "status", "--porcelain").split() == ["M", "README.md", "??", "scratch.txt"]


def test_versions_are_never_reused_after_a_delete(registry: Registry, saved_model: Path) -> None:
    register(registry, saved_model)
    register(registry, saved_model)
    registry.delete_version("M", 2)
    assert register(registry, saved_model).version == 3
    registry.delete_model("M")
    assert register(registry, saved_model).version == 4
    with pytest.raises(NotFoundError, match=r"does not exist|deleted"):
        registry.version_ref("M", 2)


def test_deleting_the_latest_version_makes_the_previous_one_latest(registry: Registry, saved_model: Path) -> None:
    register(registry, saved_model)
    register(registry, saved_model)
    registry.delete_version("M", 2)
    assert registry.resolve(parse("models:/M/latest")).version == 1


def test_a_stage_is_a_branch_whose_subtree_equals_the_tag(registry: Registry, saved_model: Path, git_in: Any) -> None:
    register(registry, saved_model)
    register(registry, saved_model)
    registry.promote("M", 1, "Production")
    repo = registry.path
    assert (
        git_in(repo, "rev-parse", "stages/production:models/M").strip()
        == git_in(repo, "rev-parse", "M/v1:models/M").strip()
    )
    assert registry.resolve(parse("models:/M/Production")).version == 1
    assert registry.resolve(parse("models:/M/PRODUCTION")).version == 1
    assert registry.resolve(parse("models:/M@production")).version == 1
    log = git_in(repo, "log", "--format=%s", "stages/production")
    assert "Promote M version 1 to Production" in log


def test_one_version_per_stage_and_archive_existing_moves_the_previous_holder(
    registry: Registry, saved_model: Path
) -> None:
    for _ in range(3):
        register(registry, saved_model)
    registry.promote("M", 1, "Production")
    registry.promote("M", 2, "Production", archive_existing=True)
    assert registry.stages_of("M") == {"production": 2, "archived": 1}
    assert registry.get_version("M", 1).current_stage == "Archived"
    assert registry.get_version("M", 2).current_stage == "Production"


def test_a_version_has_one_fixed_stage_as_in_mlflow_but_keeps_aliases(registry: Registry, saved_model: Path) -> None:
    register(registry, saved_model)
    registry.promote("M", 1, "Staging")
    registry.set_alias("M", "champion", 1)
    registry.promote("M", 1, "Production")
    mv = registry.get_version("M", 1)
    assert (mv.current_stage, mv.aliases) == ("Production", ["champion"])
    assert "staging" not in registry.stages_of("M")
    registry.promote("M", 1, "None")
    assert registry.get_version("M", 1).current_stage == "None"


def test_promotion_to_an_unknown_version_changes_nothing(registry: Registry, saved_model: Path) -> None:
    register(registry, saved_model)
    before = refs(registry.store.git_dir)
    with pytest.raises(NotFoundError):
        registry.promote("M", 7, "Production")
    with pytest.raises(InvalidInputError):
        registry.promote("M", 1, "../x")
    assert refs(registry.store.git_dir) == before


def test_names_are_unique_regardless_of_case(registry: Registry, saved_model: Path) -> None:
    register(registry, saved_model, "Fraud")
    before = refs(registry.store.git_dir)
    with pytest.raises(AlreadyExistsError, match="differ by more than case"):
        register(registry, saved_model, "fraud")
    with pytest.raises(AlreadyExistsError):
        registry.create_model("FRAUD")
    assert refs(registry.store.git_dir) == before


def test_invalid_names_are_refused_before_anything_is_written(
    registry: Registry, saved_model: Path, tmp_path: Path
) -> None:
    before = refs(registry.store.git_dir)
    for bad in ["../evil", "-x", "a/b", "x.lock", "HEAD@{1}"]:
        with pytest.raises(InvalidInputError):
            register(registry, saved_model, bad)
    assert refs(registry.store.git_dir) == before
    assert not (tmp_path / "evil").exists()


def test_resolution_rejects_a_stage_whose_subtree_differs_from_its_tag(registry: Registry, saved_model: Path) -> None:
    register(registry, saved_model)
    registry.promote("M", 1, "Production")
    store = registry.store
    # craft a stage commit whose models/M/ claims version 1 but carries other bytes
    head = store.ref("refs/heads/stages/production")
    tree = store.tree_oid("refs/heads/stages/production:models/M")
    evil = store.edit_tree(tree, {"model.pkl": (MODE_FILE, store.write_blob(b"not the model"))})
    root = store.edit_tree(store.commit_tree(head), {"models/M": (MODE_TREE, evil)})
    store.update_refs([RefUpdate("refs/heads/stages/production", store.write_commit(root, [head], "evil"), head)])
    with pytest.raises(IntegrityError, match="differs from tag"):
        registry.resolve(parse("models:/M/Production"))


def test_metadata_changes_are_commits_and_never_move_a_version_tag(
    registry: Registry, saved_model: Path, git_in: Any
) -> None:
    register(registry, saved_model)
    tag_before = git_in(registry.path, "rev-parse", "M/v1").strip()
    commits_before = int(git_in(registry.path, "rev-list", "--count", "main"))
    registry.update_version("M", 1, description="first", tags={"team": "risk"})
    registry.update_model("M", "a model")
    registry.set_model_tag("M", "owner", "me")
    assert git_in(registry.path, "rev-parse", "M/v1").strip() == tag_before
    assert int(git_in(registry.path, "rev-list", "--count", "main")) == commits_before + 3
    mv = registry.get_version("M", 1)
    assert (mv.description, mv.tags) == ("first", {"team": "risk"})
    assert registry.get_model("M").tags == {"owner": "me"}


def test_rename_keeps_every_version_and_stage_under_the_new_name(registry: Registry, saved_model: Path) -> None:
    register(registry, saved_model, "Old")
    register(registry, saved_model, "Old")
    registry.promote("Old", 1, "Production")
    registry.rename_model("Old", "New")
    assert registry.version_numbers("New") == [1, 2]
    assert registry.resolve(parse("models:/New/Production")).version == 1
    assert registry.resolve(parse("models:/New/latest")).version == 2
    with pytest.raises(NotFoundError):
        registry.record("Old")
    subprocess.run(["git", "-C", str(registry.path), "fsck", "--strict"], check=True, capture_output=True)


def test_stage_history_lists_moves_newest_first(registry: Registry, saved_model: Path) -> None:
    register(registry, saved_model)
    register(registry, saved_model)
    registry.promote("M", 1, "Production")
    registry.promote("M", 2, "Production")
    moves = registry.stage_history("M")
    assert [(m.stage, m.version, m.previous) for m in moves] == [("Production", 2, 1), ("Production", 1, None)]


def test_init_refuses_an_existing_registry_or_repository(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(AlreadyExistsError):
        Registry.init(registry.path)
    subprocess.run(["git", "init", "-q", str(tmp_path / "plain")], check=True)
    with pytest.raises(AlreadyExistsError):
        Registry.init(tmp_path / "plain")


def test_opening_a_plain_git_repository_says_how_to_create_a_registry(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path / "plain")], check=True)
    with pytest.raises(NotFoundError, match="gitreg init"):
        Registry.open(tmp_path / "plain")


def test_bare_registries_work_the_same(bare_registry: Registry, saved_model: Path) -> None:
    register(bare_registry, saved_model)
    bare_registry.promote("M", 1, "Staging")
    assert bare_registry.resolve(parse("models:/M/Staging")).version == 1


def test_provenance_records_the_training_repository(
    registry: Registry, saved_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "train.py").write_text("print(1)\n")
    subprocess.run(["git", "-C", str(project), "add", "."], check=True)
    subprocess.run(["git", "-C", str(project), "commit", "-qm", "train"], check=True)
    subprocess.run(
        ["git", "-C", str(project), "remote", "add", "origin", "https://example.com/team/project.git"], check=True
    )
    (project / "train.py").write_text("print(2)\n")
    monkeypatch.chdir(project)
    mv = register(registry, saved_model)
    head = subprocess.run(
        ["git", "-C", str(project), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert (mv.git_commit, mv.git_remote, mv.git_dirty) == (head, "https://example.com/team/project.git", True)
    assert mv.user_id == "Test Author <author@example.com>"


def test_a_model_created_again_after_delete_does_not_inherit_old_versions(
    registry: Registry, saved_model: Path
) -> None:
    register(registry, saved_model)
    registry.delete_model("M")
    registry.create_model("M")
    with pytest.raises(NotFoundError):
        registry.version_ref("M", 1)
    assert register(registry, saved_model).version == 2
