"""The CLI as a user runs it: real processes, one line on success, one-line
errors with exit 1 for refusals and 2 for usage, --json for scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.gitcli import git, refs

from gitreg.testing import run_cli


@pytest.fixture
def reg(tmp_path: Path) -> Path:
    path = tmp_path / "reg"
    out = run_cli("init", str(path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Initialised empty gitreg registry in")
    return path


def test_register_promote_show_versions_history_round_trip(reg: Path, saved_model: Path) -> None:
    out = run_cli("-r", str(reg), "register", "LR", str(saved_model), "--metric", "score=0.66", "--tag", "team=risk")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Created version '1' of model 'LR' (tag LR/v1, commit ")
    assert len(out.stdout.strip().splitlines()) == 1
    run_cli("-r", str(reg), "register", "LR", str(saved_model))
    out = run_cli("promote", "LR", "2", "production", "-r", str(reg))
    assert out.returncode == 0 and out.stdout.startswith(
        "Promoted LR version 2 to Production (branch stages/production"
    )
    shown = json.loads(run_cli("-r", str(reg), "show", "models:/LR/Production", "--json").stdout)
    assert (shown["version"], shown["current_stage"], shown["resolved_from"]) == (2, "Production", "Production")
    versions = json.loads(run_cli("-r", str(reg), "versions", "LR", "--json").stdout)
    assert [v["version"] for v in versions] == [1, 2] and versions[0]["metrics"] == {"score": 0.66}
    assert versions[0]["tags"] == {"team": "risk"}
    history = json.loads(run_cli("-r", str(reg), "history", "LR", "--json").stdout)
    assert [h["event"] for h in history][:1] == ["stage"] and len(history) == 3
    table = run_cli("-r", str(reg), "models").stdout
    assert "LR" in table and "Production: v2" in table


def test_the_registry_is_found_from_the_current_directory(reg: Path, saved_model: Path) -> None:
    (reg / "notes").mkdir()
    out = run_cli("register", "LR", str(saved_model), cwd=reg / "notes")
    assert out.returncode == 0, out.stderr
    assert run_cli("versions", "LR", cwd=reg).returncode == 0


def test_register_accepts_a_single_pickle_file(reg: Path, tmp_path: Path, seed_model: object) -> None:
    import pickle

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(seed_model))
    out = run_cli("-r", str(reg), "register", "Pickled", str(path))
    assert out.returncode == 0, out.stderr
    import gitreg.pyfunc

    assert gitreg.pyfunc.load_model("models:/Pickled/1", registry=reg).predict([[2]]).tolist() == [1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "Nope"], "does not exist"),
        (["show", "models:/LR/9"], "Version 9 of model 'LR' does not exist"),
        (["show", "models:/LR/Production"], "no version in stage 'Production'"),
        (["register", "../evil", "SAVED"], "Invalid model name"),
        (["register", "-x", "SAVED"], None),
        (["register", "LR", "/does/not/exist"], "does not exist"),
        (["promote", "LR", "one", "Production"], "Invalid version"),
        (["promote", "LR", "1", "bad/stage"], "Invalid stage"),
        (["register", "LR", "SAVED", "--metric", "score=high"], "metric values must be numbers"),
    ],
)
def test_refusals_are_one_line_errors_that_change_nothing(
    reg: Path, saved_model: Path, args: list[str], message: str | None
) -> None:
    run_cli("-r", str(reg), "register", "LR", str(saved_model))
    before = refs(reg)
    out = run_cli("-r", str(reg), *[str(saved_model) if a == "SAVED" else a for a in args])
    assert out.returncode in (1, 2)
    assert "Traceback" not in out.stderr
    if message:
        assert message in out.stderr
    assert refs(reg) == before


def test_usage_errors_exit_2_and_refusals_exit_1(reg: Path) -> None:
    assert run_cli("-r", str(reg), "promote", "LR").returncode == 2
    assert run_cli("-r", str(reg), "show", "Nope").returncode == 1


def test_no_registry_error_says_how_to_create_one(tmp_path: Path) -> None:
    out = run_cli("models", cwd=tmp_path)
    assert out.returncode == 1
    assert "gitreg init PATH" in out.stderr


def test_delete_asks_unless_yes(reg: Path, saved_model: Path) -> None:
    run_cli("-r", str(reg), "register", "LR", str(saved_model))
    out = run_cli("-r", str(reg), "delete", "LR", "1", input="n\n")
    assert out.returncode == 1 and "Aborted" in out.stderr
    out = run_cli("-r", str(reg), "delete", "LR", "1", "--yes")
    assert out.returncode == 0 and out.stdout.strip() == "Deleted version 1 of model 'LR'."


def test_aliases_are_set_and_deleted_with_alias_and_leave_no_branch(reg: Path, saved_model: Path) -> None:
    run_cli("-r", str(reg), "register", "LR", str(saved_model))
    out = run_cli("-r", str(reg), "alias", "set", "LR", "champion", "1")
    assert out.stdout.strip() == "Alias champion of LR now names version 1 (models:/LR@champion)."
    out = run_cli("-r", str(reg), "alias", "delete", "LR", "champion")
    assert out.stdout.strip() == "Removed alias champion of LR (it named version 1)."
    assert "stages/champion" not in git(reg, "branch", "--list", "stages/*")


def test_a_stage_typo_is_refused_with_a_suggestion_and_creates_no_branch(reg: Path, saved_model: Path) -> None:
    run_cli("-r", str(reg), "register", "LR", str(saved_model))
    out = run_cli("-r", str(reg), "promote", "LR", "1", "Prodution")
    assert out.returncode == 1
    assert "'prodution' is not a stage of this registry" in out.stderr and "Did you mean 'Production'?" in out.stderr
    assert git(reg, "branch", "--list", "stages/*") == ""


def test_an_alias_may_not_shadow_a_stage_or_a_version(reg: Path, saved_model: Path) -> None:
    run_cli("-r", str(reg), "register", "LR", str(saved_model))
    for name, why in (("Production", "is a stage of this registry"), ("v2", "names version")):
        out = run_cli("-r", str(reg), "alias", "set", "LR", name, "1")
        assert out.returncode == 1 and why in out.stderr, out.stderr


def test_demote_removes_a_model_from_a_stage(reg: Path, saved_model: Path) -> None:
    run_cli("-r", str(reg), "register", "LR", str(saved_model))
    run_cli("-r", str(reg), "promote", "LR", "1", "Staging")
    assert run_cli("-r", str(reg), "demote", "LR", "staging").stdout.strip() == "Removed LR version 1 from Staging."


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys; from gitreg.cli import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit: pass\n"
        "print(sorted(m for m in ('numpy','pandas','sklearn','falcon','git') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
