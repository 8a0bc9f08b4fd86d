"""Shell completion (``eval "$(_GITREG_COMPLETE=bash_source gitreg)"``):
commands from the table, model names, versions and stages from the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg.registry import Registry
from gitreg.testing import file_package, run_cli


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    registry = Registry.init(tmp_path / "reg")
    for _ in range(2):
        registry.register("LogisticRegression", file_package(tmp_path / "pkg", {"model.txt": "x"}))
    registry.register("Forest", file_package(tmp_path / "pkg2", {"model.txt": "y"}))
    registry.promote("LogisticRegression", 2, "Production")
    registry.close()
    return Path(registry.path)


def complete(line: str, **env: str) -> list[str]:
    """What bash completion offers for ``line`` (the word being completed is the last, maybe empty)."""
    words = line.split(" ")
    out = run_cli(
        env={"_GITREG_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1), **env}
    )
    assert out.returncode == 0, out.stderr
    return [row.split(",", 1)[1] for row in out.stdout.splitlines() if row]


def test_the_bash_script_is_what_click_generates() -> None:
    out = run_cli(env={"_GITREG_COMPLETE": "bash_source"})
    assert out.returncode == 0 and "_gitreg_completion" in out.stdout


def test_commands_complete_from_the_table() -> None:
    assert complete("gitreg pro") == ["promote", "proposals"]


def test_model_names_versions_and_stages_complete(reg: Path) -> None:
    r = f"gitreg -r {reg}"
    assert complete(f"{r} versions ") == ["Forest", "LogisticRegression"]
    assert complete(f"{r} promote Log") == ["LogisticRegression"]
    assert complete(f"{r} promote LogisticRegression ") == ["1", "2"]
    assert complete(f"{r} promote LogisticRegression 1 ") == ["Production", "Staging", "Archived", "None"]
    assert complete(f"{r} demote LogisticRegression ") == ["Production"]
    assert complete(f"{r} delete Forest ") == ["1"]
    assert complete(f"{r} alias set LogisticRegression champion ") == ["1", "2"]


def test_show_completes_names_then_uris(reg: Path) -> None:
    r = f"gitreg -r {reg}"
    assert "models:/Forest/" in complete(f"{r} show ")
    assert complete(f"{r} show models:/LogisticRegression/") == [
        "models:/LogisticRegression/1",
        "models:/LogisticRegression/2",
        "models:/LogisticRegression/latest",
        "models:/LogisticRegression/Production",
    ]


def test_the_registry_comes_from_the_environment_too(reg: Path) -> None:
    assert complete("gitreg versions F", GITREG_REGISTRY=str(reg)) == ["Forest"]


def test_no_registry_completes_nothing_and_prints_no_error(tmp_path: Path) -> None:
    assert complete("gitreg versions ") == []
