"""``--json`` on every command, writes included: a script reads one JSON
document from stdout and never has to parse a sentence."""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click
import pytest
from helpers.gitcli import git

from gitreg.cli import COMMANDS, cli
from gitreg.testing import run_cli

# Commands that take no --json, and why.
WITHOUT_JSON = {
    "serve": "starts a server; what it prints is a log, not a result",
    "ui": "starts a server; what it prints is a log, not a result",
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


def run_json(*args: str, cwd: Path | None = None, input: str | None = None, status: int = 0) -> Any:
    out = run_cli(*args, "--json", cwd=cwd, input=input)
    assert out.returncode == status, (args, out.stderr)
    return json.loads(out.stdout)


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on 127.0.0.1 that takes every POST: its URL and the payloads it got."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hook", got
    httpd.shutdown()
    httpd.server_close()


def every_command_with_json() -> set[str]:
    return {shown for name in set(COMMANDS) - set(WITHOUT_JSON) for shown, _ in _commands(name)}


def test_every_command_prints_one_json_document_saying_what_changed(
    tmp_path: Path, saved_model: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    ran: set[str] = set()

    def j(*args: str, **kwargs: Any) -> Any:
        ran.add(" ".join(args[:2]) if args[0] in ("alias", "hook") else args[0])
        return run_json(*args, **kwargs)

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
    rolled = j("rollback", "LR", "staging", *r)
    assert (rolled["stage"], rolled["version"], rolled["previous"], rolled["changed"]) == ("Staging", 2, None, True)
    assert rolled["branch"] == "stages/staging" and len(rolled["commit"]) == 40
    proposed_back = j("rollback", "LR", "Staging", "--propose", *r)
    assert proposed_back["proposal_branch"].startswith("promote/staging/") and proposed_back["version"] == 1

    assert [m["name"] for m in j("models", *r)] == ["LR"]
    assert [v["version"] for v in j("versions", "LR", *r)] == [1, 2]
    assert j("show", "models:/LR/2", *r)["version"] == 2
    assert isinstance(j("history", "LR", *r), list)
    j("diff", "LR", "1", "2", *r)
    j("check", *r)
    j("events", "--since", "2000-01-01T00:00Z", *r)
    j("proposals", *r)
    url, received = webhook
    sent = j("notify", "--url", url, "--since", "2000-01-01T00:00Z", *r)["webhooks"]
    assert [(s["url"], s["ledger"], s["started"]) for s in sent] == [(url, "default", False)]
    assert len(sent[0]["delivered"]) == len(received) > 0
    assert {e["event"] for e in sent[0]["delivered"]} >= {"model_version.created"}

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

    if importlib.util.find_spec("mlflow") is not None:
        imported = j("import-mlflow", "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", *r)
        assert imported["versions"] == 0
    else:  # the mlflow extra is not installed: the command says so (tested in tests/mlflow_plugin)
        ran.add("import-mlflow")

    collected = j("gc", *r)
    assert collected["bytes_before"] > 0 and collected["bytes_after"] > 0

    pushed = j("push", *r)
    assert pushed["changed"] is True and "main" in pushed["branches"] and "LR/v1" in pushed["tags"]
    pulled = j("pull", *r)
    assert pulled["changed"] is False and pulled["warnings"] == []
    synced = j("sync", *r)
    assert synced["pulled"]["changed"] is False and synced["pushed"]["changed"] is False

    assert j("delete", "LR", "1", "--yes", *r) == {"model": "LR", "version": 1, "deleted": "version"}
    assert j("delete", "LR", "--yes", *r) == {"model": "LR", "version": None, "deleted": "model"}

    installed = j("hook", "install", "--pre-receive", str(server))
    assert installed == {
        "hook": str(server / "hooks" / "pre-receive"),
        "repository": str(server),
        "allow_overrides": False,
    }
    main = git(server, "rev-parse", "main").strip()
    tag = git(server, "rev-parse", "refs/tags/LR/v1").strip()
    moved_tag = f"{tag} {main} refs/tags/LR/v1\n"
    refused = j("hook", "pre-receive", "-r", str(server), input=moved_tag, status=1)
    assert refused["accepted"] is False and "push-tag" in [p["rule"] for p in refused["problems"]]
    assert j("hook", "pre-receive", "-r", str(server), input="") == {"accepted": True, "problems": []}

    assert ran == every_command_with_json()


def test_json_is_printed_even_when_quiet(tmp_path: Path) -> None:
    out = run_cli("-q", "init", str(tmp_path / "reg"), "--json")
    assert json.loads(out.stdout)["path"] == str(tmp_path / "reg")


def test_stage_moves_name_the_stage_in_its_display_form_and_the_alias_as_the_registry_lists_it(
    tmp_path: Path, saved_model: Path
) -> None:
    reg = tmp_path / "reg"
    run_json("init", str(reg))
    r = ("-r", str(reg))
    for _ in range(2):
        run_json("register", "LR", str(saved_model), *r)
    assert run_json("promote", "LR", "1", "production", *r)["stage"] == "Production"
    assert run_json("promote", "LR", "2", "PRODUCTION", *r)["stage"] == "Production"
    assert run_json("rollback", "LR", "pRoDuCtIoN", *r)["stage"] == "Production"
    assert run_json("promote", "LR", "2", "production", "--propose", *r)["stage"] == "Production"
    assert run_json("alias", "delete", "LR", "PRODUCTION", *r)["alias"] == "Production"
    run_json("promote", "LR", "1", "production", *r)
    assert run_json("demote", "LR", "production", *r)["stage"] == "Production"
    assert run_json("promote", "LR", "1", "none", *r)["stage"] == "None"

    assert run_json("alias", "set", "LR", "Champion", "1", *r)["alias"] == "champion"
    assert run_json("models", *r)[0]["aliases"] == {"champion": 1}  # what a script reads back
    assert run_json("alias", "delete", "LR", "CHAMPION", *r)["alias"] == "champion"
