"""``Registry``, the facade: each public method is one call into the part that owns the rule,
and what it refuses leaves the registry as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers.gitcli import refs

from gitreg import testing
from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.registry import Registry


@pytest.fixture
def two(registry: Registry, tmp_path: Path) -> Registry:
    """Model m with versions 1 and 2; version 1 in Production and Staging."""
    for v in (1, 2):
        registry.register("m", testing.file_package(tmp_path / f"p{v}", {"model.bin": f"v{v}"}))
    registry.promote("m", 1, "Production", exclusive_fixed=False)
    registry.promote("m", 1, "Staging", exclusive_fixed=False)
    return registry


def test_promoting_to_none_takes_the_version_out_of_every_fixed_stage(two: Registry) -> None:
    moved = two.promote("m", 1, "None")
    assert moved.current_stage == "None"
    assert two.stages_of("m") == {}


def test_demote_version_is_the_promotion_to_none(two: Registry) -> None:
    assert two.demote_version("m", 1).current_stage == "None"
    assert two.stages_of("m") == {}


def test_promoting_to_a_fixed_stage_leaves_the_other_fixed_stages(two: Registry) -> None:
    moved = two.promote("m", 2, "Staging")
    assert moved.current_stage == "Staging"
    assert two.stages_of("m") == {"production": 1, "staging": 2}


def test_promoting_to_an_undeclared_stage_is_refused_and_creates_no_branch(two: Registry) -> None:
    before = refs(two.store.git_dir)
    with pytest.raises(InvalidInputError, match="Did you mean 'Production'"):
        two.promote("m", 2, "prodution")
    assert refs(two.store.git_dir) == before


def test_an_alias_sets_without_moving_the_versions_stages(two: Registry) -> None:
    aliased = two.set_alias("m", "champion", 1)
    assert "champion" in aliased.aliases and aliased.current_stage in {"Production", "Staging"}
    assert two.stages_of("m") == {"production": 1, "staging": 1, "champion": 1}


@pytest.mark.parametrize(
    ("alias", "why"),
    [("None", "'None' means no stage"), ("production", "is a stage of this registry"), ("v2", "names version N")],
)
def test_an_alias_that_reads_as_something_else_is_refused_and_nothing_changes(
    two: Registry, alias: str, why: str
) -> None:
    before = refs(two.store.git_dir)
    with pytest.raises(InvalidInputError, match=why):
        two.set_alias("m", alias, 2)
    assert refs(two.store.git_dir) == before


def test_deleting_an_alias_returns_the_version_it_named_and_removes_its_empty_branch(two: Registry) -> None:
    two.set_alias("m", "champion", 2)
    assert two.delete_alias("m", "champion") == 2
    assert "refs/heads/stages/champion" not in refs(two.store.git_dir).split()


def test_deleting_an_alias_the_model_lacks_is_not_found_and_nothing_changes(two: Registry) -> None:
    before = refs(two.store.git_dir)
    with pytest.raises(NotFoundError, match="has no alias 'challenger'"):
        two.delete_alias("m", "challenger")
    assert refs(two.store.git_dir) == before


def test_opening_a_path_that_does_not_exist_says_how_to_create_a_registry(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="gitreg init"):
        Registry.open(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()


def test_opening_a_git_repository_without_registry_yaml_says_it_is_not_a_registry(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path / "plain")], check=True)
    with pytest.raises(NotFoundError, match="not a gitreg registry"):
        Registry.open(tmp_path / "plain")


def test_flushing_warnings_returns_them_once(registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    registry.warnings.append("the work tree was left behind")
    with caplog.at_level("WARNING", logger="gitreg"):
        assert registry.flush_warnings() == ["the work tree was left behind"]
    assert "the work tree was left behind" in caplog.text
    assert registry.flush_warnings() == []
