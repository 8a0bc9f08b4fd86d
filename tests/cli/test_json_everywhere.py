"""``--json`` on every command, writes included: a script reads one JSON
document from stdout and never has to parse a sentence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest

from gitreg.cli import COMMANDS, cli
from gitreg.testing import run_cli

# Commands that take no --json, and why.
WITHOUT_JSON = {
    "serve": "starts a server; what it prints is a log, not a result",
    "ui": "starts a server; what it prints is a log, not a result",
    "hook": "installs a file or speaks git's pre-receive protocol on stdout",
    "rollback": "not yet: gitreg/cli/stage_cmds.py has no --json (another change owns that module)",
    "notify": "not yet: gitreg/cli/events_cmds.py's notify has no --json (another change owns that module)",
}


def _commands(name: str) -> list[tuple[str, click.Command]]:
    """A command, or each subcommand of a group (``alias set``, ``alias delete``)."""
    with click.Context(cli, info_name="gitreg") as ctx:
        command = cli.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            return [(f"{name} {sub}", command.commands[sub]) for sub in sorted(command.commands)]
        return [(name, command)]


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - set(WITHOUT_JSON)))
def test_every_command_takes_json(name: str) -> None:
    for shown, command in _commands(name):
        assert "--json" in [opt for p in command.params for opt in getattr(p, "opts", [])], shown


def test_every_command_without_json_says_why() -> None:
    assert set(WITHOUT_JSON) <= set(COMMANDS)


def run_json(*args: str, cwd: Path | None = None) -> Any:
    out = run_cli(*args, "--json", cwd=cwd)
    assert out.returncode == 0, (args, out.stderr)
    return json.loads(out.stdout)


def test_every_command_prints_one_json_document_saying_what_changed(tmp_path: Path, saved_model: Path) -> None:
    ran: set[str] = set()

    def j(*args: str) -> Any:
        ran.add(args[0])
        return run_json(*args)

    server = tmp_path / "server.git"
    made = j("init", "--bare", str(server))
    assert made["bare"] is True and made["branch"] == "main" and made["path"] == str(server)
    clone = tmp_path / "clone"
    cloned = j("clone", f"file://{server}", str(clone))
    assert cloned["path"] == str(clone) and cloned["models"] == 0

    r = ("-r", str(clone))
    first = j("register", "LR", str(saved_model), *r)
    assert first["model"] == "LR" and first["version"] == 1 and first["tag"] == "LR/v1"
    assert len(first["commit"]) == 40 and first["uri"] == "models:/LR/1"
    assert j("register", "LR", str(saved_model), "--metric", "score=0.9", *r)["version"] == 2

    promoted = j("promote", "LR", "1", "Staging", *r)
    assert promoted == {
        "model": "LR",
        "version": 1,
        "stage": "Staging",
        "previous": None,
        "branch": "stages/staging",
        "commit": promoted["commit"],
        "changed": True,
    }
    again = j("promote", "LR", "2", "Staging", *r)
    assert (again["previous"], again["version"], again["changed"]) == (1, 2, True)
    assert j("promote", "LR", "2", "Staging", *r)["changed"] is False
    proposed = j("promote", "LR", "2", "Production", "--propose", *r)
    assert proposed["proposal_branch"].startswith("promote/production/") and proposed["pull_request_url"] is None
    assert j("demote", "LR", "Staging", *r) == {
        "model": "LR",
        "stage": "Staging",
        "previous": 2,
        "changed": True,
    }
    assert j("alias", "set", "LR", "champion", "2", *r)["uri"] == "models:/LR@champion"
    assert j("alias", "delete", "LR", "champion", *r)["previous"] == 2

    assert [m["name"] for m in j("models", *r)] == ["LR"]
    assert [v["version"] for v in j("versions", "LR", *r)] == [1, 2]
    assert j("show", "models:/LR/2", *r)["version"] == 2
    assert isinstance(j("history", "LR", *r), list)
    j("diff", "LR", "1", "2", *r)
    j("check", *r)
    j("events", "--since", "2000-01-01T00:00Z", *r)
    j("proposals", *r)

    exported = j("export", "models:/LR/1", str(tmp_path / "copy"), *r)
    assert exported["version"] == 1
    assert "FROM" in j("dockerfile", "models:/LR/1", *r)["dockerfile"]
    written = j("dockerfile", "models:/LR/1", "-o", str(tmp_path / "Dockerfile"), *r)
    assert written["path"] == str(tmp_path / "Dockerfile")
    scored = tmp_path / "input.json"
    scored.write_text(json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1.0], [-1.0]]}}))
    assert "predictions" in j("predict", "-m", "models:/LR/1", "-i", str(scored), *r)
    wrote = j("predict", "-m", "models:/LR/1", "-i", str(scored), "-o", str(tmp_path / "out.json"), *r)
    assert (wrote["model"], wrote["version"], wrote["output"]) == ("LR", 1, str(tmp_path / "out.json"))

    pushed = j("push", *r)
    assert pushed["changed"] is True and "main" in pushed["branches"] and "LR/v1" in pushed["tags"]
    pulled = j("pull", *r)
    assert pulled["changed"] is False and pulled["warnings"] == []
    synced = j("sync", *r)
    assert synced["pulled"]["changed"] is False and synced["pushed"]["changed"] is False

    assert j("delete", "LR", "1", "--yes", *r) == {"model": "LR", "version": 1, "deleted": "version"}
    assert j("delete", "LR", "--yes", *r) == {"model": "LR", "version": None, "deleted": "model"}

    assert ran == set(COMMANDS) - set(WITHOUT_JSON)


def test_json_is_printed_even_when_quiet(tmp_path: Path) -> None:
    out = run_cli("-q", "init", str(tmp_path / "reg"), "--json")
    assert json.loads(out.stdout)["path"] == str(tmp_path / "reg")
