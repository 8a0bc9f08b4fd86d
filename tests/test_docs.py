"""Documentation as a tested artefact: every command is in the CLI reference,
and the reference is what the commands' --help says today."""

from __future__ import annotations

from pathlib import Path

from gitreg.cli import COMMANDS
from gitreg.cli.reference import render

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_current() -> None:
    """Regenerate with: python -m gitreg.cli.reference > docs/cli.md"""
    assert (ROOT / "docs" / "cli.md").read_text() == render()


def test_every_command_is_documented_in_the_reference_and_mentioned_in_the_readme_or_docs() -> None:
    reference = (ROOT / "docs" / "cli.md").read_text()
    prose = (ROOT / "README.md").read_text() + "".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    for name in COMMANDS:
        assert f"## gitreg {name}\n" in reference
        assert f"gitreg {name}" in prose.replace(reference, ""), (
            f"'gitreg {name}' is not described in README.md or docs/"
        )
