"""Documentation as a tested artefact: every command is in the CLI reference,
and the reference is what the commands' --help says today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gitreg.cli import COMMANDS
from gitreg.cli.reference import render

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "cli.md"


def _prose() -> str:
    """README.md and docs/, without the generated reference (which names every command anyway)."""
    docs = sorted(p for p in (ROOT / "docs").glob("*.md") if p != REFERENCE)
    return "".join(p.read_text() for p in [ROOT / "README.md", *docs])


def test_cli_reference_is_current() -> None:
    """Regenerate with: python -m gitreg.cli.reference > docs/cli.md"""
    assert REFERENCE.read_text() == render()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_command_is_documented_in_the_reference_and_described_in_the_readme_or_docs(name: str) -> None:
    assert f"## gitreg {name}\n" in REFERENCE.read_text()
    assert f"gitreg {name}" in _prose(), f"'gitreg {name}' is not described in README.md or docs/"


def test_the_reference_does_not_depend_on_where_a_command_was_first_asked_for_help() -> None:
    """click keeps a command's help option from the first context that asks for it; a context
    made without the group (as a test may make) must not change what the reference shows."""
    import click

    from gitreg.cli import cli

    with click.Context(cli, info_name="gitreg") as ctx:
        for name in sorted(COMMANDS):
            command = cli.get_command(ctx, name)
            assert command is not None
            with click.Context(command, info_name=name) as alone:  # no parent: the group's settings unseen
                assert "-h, --help" in command.get_help(alone)
    assert REFERENCE.read_text() == render()


def test_the_reference_is_the_same_after_a_command_was_invoked_on_its_own_first() -> None:
    """A command invoked before the group has loaded it (a test's ``CliRunner().invoke(command)``)
    has click build its help option without the group's ``-h``; loading it through the group
    rebuilds it. A fresh process, so that no earlier test has loaded the command already."""
    script = (
        "from click.testing import CliRunner\n"
        "from gitreg.cli.mlflow_cmds import import_mlflow\n"
        "CliRunner().invoke(import_mlflow, ['--help'])\n"
        "from gitreg.cli.reference import render\n"
        "import sys; sys.stdout.write(render())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == REFERENCE.read_text()
