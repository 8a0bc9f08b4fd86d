"""The options every command shares (--color and NO_COLOR, -q, -v, -r), before
the subcommand or after it, and the "did you mean" a typo gets, for a command,
a model and a stage."""

from __future__ import annotations

import logging
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from gitreg.cli import COMMANDS, cli
from gitreg.testing import run_cli

BOLD = "\x1b[1m"


@pytest.fixture
def reg(tmp_path: Path, saved_model: Path) -> Path:
    path = tmp_path / "reg"
    assert run_cli("init", str(path)).returncode == 0
    assert run_cli("-r", str(path), "register", "LogisticRegression", str(saved_model)).returncode == 0
    return path


def test_colour_is_off_when_not_a_terminal_and_on_with_color_always(reg: Path) -> None:
    assert BOLD not in run_cli("-r", str(reg), "versions", "LogisticRegression").stdout
    assert BOLD in run_cli("--color", "always", "-r", str(reg), "versions", "LogisticRegression").stdout


def test_no_color_turns_auto_off_and_an_explicit_flag_wins(reg: Path) -> None:
    no_color = {"NO_COLOR": "1"}
    plain = run_cli("--color", "never", "-r", str(reg), "versions", "LogisticRegression", env=no_color)
    assert BOLD not in plain.stdout
    forced = run_cli("--color", "always", "-r", str(reg), "versions", "LogisticRegression", env=no_color)
    assert BOLD in forced.stdout


def test_errors_are_red_only_when_colour_is_allowed(reg: Path) -> None:
    coloured = run_cli("--color", "always", "-r", str(reg), "show", "Nope")
    assert coloured.returncode == 1 and coloured.stderr.startswith("\x1b[")
    assert run_cli("-r", str(reg), "show", "Nope").stderr.startswith("Error: ")


def test_quiet_drops_the_success_line_but_not_output_or_errors(reg: Path, saved_model: Path) -> None:
    out = run_cli("-q", "-r", str(reg), "register", "LogisticRegression", str(saved_model))
    assert out.returncode == 0 and out.stdout == ""
    shown = run_cli("-q", "-r", str(reg), "show", "LogisticRegression")
    assert "Model:        LogisticRegression" in shown.stdout
    refused = run_cli("-q", "-r", str(reg), "promote", "LogisticRegression", "9", "Production")
    assert refused.returncode == 1 and "does not exist" in refused.stderr


def test_quiet_and_verbose_together_are_a_usage_error() -> None:
    assert run_cli("-q", "-v", "models").returncode == 2


def test_verbose_shows_the_library_log_at_info(tmp_path: Path) -> None:
    log = logging.getLogger("gitreg")
    before = log.level
    try:
        result = CliRunner().invoke(cli, ["-v", "init", str(tmp_path / "reg")])
        assert result.exit_code == 0, result.output
        assert log.isEnabledFor(logging.INFO)
        log.info("what the library does")
    finally:
        log.setLevel(before)


def test_verbose_log_lines_reach_stderr(tmp_path: Path) -> None:
    from gitreg.cli.output import show_library_warnings

    show_library_warnings(verbose=True)
    try:
        handler = next(h for h in logging.getLogger("gitreg").handlers if h.level == logging.INFO)
        assert handler.level == logging.INFO
    finally:
        show_library_warnings()
        logging.getLogger("gitreg").setLevel(logging.NOTSET)


def test_an_unknown_command_gets_the_commands_it_is_close_to() -> None:
    out = run_cli("promot", "LR", "1", "Production")
    assert out.returncode == 2 and "No such command 'promot'. Did you mean 'promote'?" in out.stderr
    out = run_cli("histroy")
    assert "Did you mean 'history'?" in out.stderr
    assert "Did you mean" not in run_cli("frobnicate").stderr


@pytest.mark.parametrize("typed", ["LogisticRegresion", "logisticregression", "LogisticRegressoin"])
def test_an_unknown_model_gets_the_model_it_is_close_to(reg: Path, typed: str) -> None:
    for args in (["show", typed], ["versions", typed], ["promote", typed, "1", "Production"]):
        out = run_cli("-r", str(reg), *args)
        assert out.returncode == 1
        assert f"Registered model '{typed}' does not exist. Did you mean 'LogisticRegression'?" in out.stderr


def test_a_model_unlike_any_gets_no_suggestion(reg: Path) -> None:
    out = run_cli("-r", str(reg), "show", "Forest")
    assert out.returncode == 1 and "Did you mean" not in out.stderr


def test_an_undeclared_stage_gets_the_stage_it_is_close_to(reg: Path) -> None:
    out = run_cli("-r", str(reg), "promote", "LogisticRegression", "1", "Stagign")
    assert out.returncode == 1 and "Did you mean 'Staging'?" in out.stderr


# Commands that take no -r/--registry, and why (every other command takes it after its name).
WITHOUT_REGISTRY = {
    "init": "creates the registry at its PATH argument",
    "clone": "creates the registry at its PATH argument",
    "hook install": "installs into the repository its REPO argument names",
}


def _every_command() -> list[tuple[str, click.Command]]:
    with click.Context(cli, info_name="gitreg") as ctx:
        out = []
        for name in COMMANDS:
            command = cli.get_command(ctx, name)
            assert command is not None
            subs = command.commands if isinstance(command, click.Group) else {"": command}
            out += [(f"{name} {sub}".strip(), c) for sub, c in sorted(subs.items())]
        return out


def test_every_command_takes_the_group_options_after_its_name() -> None:
    for shown, command in _every_command():
        opts = {o for p in command.params for o in getattr(p, "opts", [])}
        wanted = {"--color", "-q", "--quiet", "-v", "--verbose", "--traceback"}
        if shown not in WITHOUT_REGISTRY:
            wanted |= {"-r", "--registry"}
        assert wanted <= opts, (shown, wanted - opts)


def test_group_options_work_after_the_subcommand_as_before_it(reg: Path, saved_model: Path) -> None:
    quiet = run_cli("register", "LogisticRegression", str(saved_model), "-r", str(reg), "-q")
    assert quiet.returncode == 0 and quiet.stdout == ""
    assert BOLD in run_cli("versions", "LogisticRegression", "-r", str(reg), "--color", "always").stdout
    after_wins = run_cli("--color", "always", "versions", "LogisticRegression", "-r", str(reg), "--color", "never")
    assert after_wins.returncode == 0 and BOLD not in after_wins.stdout
    coloured = run_cli("show", "Nope", "-r", str(reg), "--color", "always")
    assert coloured.returncode == 1 and coloured.stderr.startswith("\x1b[")
    assert "Traceback" in run_cli("show", "Nope", "-r", str(reg), "--traceback").stderr
    assert run_cli("alias", "set", "LogisticRegression", "champion", "1", "-r", str(reg), "-q").stdout == ""


def test_quiet_and_verbose_after_the_subcommand_are_a_usage_error_too(reg: Path) -> None:
    for args in (["models", "-q", "-v"], ["-q", "models", "-v"], ["-v", "models", "-q"]):
        out = run_cli(*args, "-r", str(reg))
        assert out.returncode == 2 and "ask for opposite things" in out.stderr, args


def test_verbose_after_the_subcommand_shows_the_library_log(tmp_path: Path) -> None:
    log = logging.getLogger("gitreg")
    before = log.level
    try:
        log.setLevel(logging.WARNING)
        result = CliRunner().invoke(cli, ["init", str(tmp_path / "reg"), "-v"])
        assert result.exit_code == 0, result.output
        assert log.isEnabledFor(logging.INFO)
    finally:
        log.setLevel(before)
