"""Choosing the registry the git way: ``git config gitreg.registry PATH``,
below --registry, GITREG_REGISTRY and the registry around the current
directory."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers.gitcli import git

from gitreg import locate
from gitreg.registry import Registry
from gitreg.testing import run_cli


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    """A registry holding model 'Configured', named by the global git config."""
    reg = Registry.init(tmp_path / "configured")
    reg.create_model("Configured")
    reg.close()
    git(tmp_path, "config", "--global", "gitreg.registry", str(reg.path))
    return Path(reg.path)


def names(out: subprocess.CompletedProcess[str]) -> list[str]:
    assert out.returncode == 0, out.stderr
    return [m["name"] for m in json.loads(out.stdout)]


def test_the_global_git_config_names_the_registry(tmp_path: Path, configured: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    assert names(run_cli("models", "--json", cwd=tmp_path / "elsewhere")) == ["Configured"]


def test_a_project_repository_names_its_registry_relative_to_its_top(tmp_path: Path) -> None:
    Registry.init(tmp_path / "shared-registry").create_model("Shared")
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    git(project, "init", "--quiet")
    git(project, "config", "gitreg.registry", "../shared-registry")
    assert names(run_cli("models", "--json", cwd=project / "src")) == ["Shared"]


def test_registry_option_env_and_the_registry_around_cwd_come_first(tmp_path: Path, configured: Path) -> None:
    other = Registry.init(tmp_path / "other")
    other.create_model("Other")
    assert names(run_cli("-r", str(other.path), "models", "--json")) == ["Other"]
    assert names(run_cli("models", "--json", env={"GITREG_REGISTRY": str(other.path)})) == ["Other"]
    assert names(run_cli("models", "--json", cwd=Path(other.path))) == ["Other"]


def test_without_any_configuration_there_is_no_registry(tmp_path: Path) -> None:
    assert locate.configured_registry() is None
    out = run_cli("models", cwd=tmp_path)
    assert out.returncode == 1 and "gitreg init PATH" in out.stderr


def test_a_git_url_in_the_config_is_kept_as_a_url(tmp_path: Path) -> None:
    git(tmp_path, "config", "--global", "gitreg.registry", "https://example.com/team/registry.git")
    assert locate.configured_registry() == "https://example.com/team/registry.git"
    assert locate.get_registry() == "https://example.com/team/registry.git"


def test_every_gitreg_environment_variable_the_code_names_is_documented() -> None:
    import re

    root = Path(__file__).resolve().parents[2]
    named = {m for f in (root / "gitreg").rglob("*.py") for m in re.findall(r"\bGITREG_[A-Z_]+\b", f.read_text())}
    documented = (root / "docs" / "configuration.md").read_text()
    assert named, "the scan found nothing"
    assert sorted(v for v in named if f"`{v}`" not in documented) == []
    assert "`gitreg.registry`" in documented
