"""docs/ui.md's table of MLflow's registry UI features beside gitreg's names, on each row, a test that
shows it; every test it names exists, so the table cannot drift from the suite."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def parity_rows() -> list[str]:
    text = (ROOT / "docs" / "ui.md").read_text()
    section = text.split("## Beside MLflow's registry UI", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return rows[2:]  # past the header and its rule


def functions_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def named_tests(row: str) -> list[tuple[Path, str]]:
    found = []
    for match in re.finditer(r"`((?:tests/[\w/]+/)?test_\w+\.py)::(test_\w+)`", row):
        where, name = match.groups()
        path = ROOT / where if where.startswith("tests/") else ROOT / "tests" / "ui" / where
        found.append((path, name))
    return found


def test_every_row_of_the_parity_table_names_a_test_that_exists() -> None:
    rows = parity_rows()
    assert len(rows) >= 15
    for row in rows:
        named = named_tests(row)
        assert named, f"no test named on: {row[:80]}"
        for path, name in named:
            assert path.exists() and name in functions_in(path), f"{path.name}::{name} (on: {row[:60]})"
