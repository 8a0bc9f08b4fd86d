"""Documentation as a tested artefact: every command is in the CLI reference,
and the reference is what the commands' --help says today."""

from __future__ import annotations

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
