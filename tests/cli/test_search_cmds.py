"""``gitreg models`` and ``gitreg versions`` search as MLflow's client does:
--filter, --order-by, --max-results, and --page-token with the next token on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitreg.testing import run_cli


@pytest.fixture
def reg(tmp_path: Path, saved_model: Path) -> Path:
    path = tmp_path / "reg"
    assert run_cli("init", str(path)).returncode == 0
    for name, tag in (("alpha", "team=ml"), ("alpha", "team=ml"), ("alpha", "team=ops"), ("beta", "team=ml")):
        out = run_cli("-r", str(path), "register", name, str(saved_model), "--tag", tag)
        assert out.returncode == 0, out.stderr
    return path


def names(stdout: str) -> list[str]:
    return [m["name"] for m in json.loads(stdout)]


def test_models_filter_and_order(reg: Path) -> None:
    out = run_cli("-r", str(reg), "models", "--filter", "name LIKE 'a%'", "--json")
    assert out.returncode == 0, out.stderr
    assert names(out.stdout) == ["alpha"]
    out = run_cli("-r", str(reg), "models", "--order-by", "name DESC", "--json")
    assert names(out.stdout) == ["beta", "alpha"] and out.stderr == ""


def test_models_max_results_prints_the_next_page_token_on_stderr(reg: Path) -> None:
    first = run_cli("-r", str(reg), "models", "--max-results", "1", "--json")
    assert names(first.stdout) == ["alpha"]
    token = first.stderr.strip().rsplit(" ", 1)[-1]
    assert first.stderr.startswith("More results: repeat with --page-token ")
    rest = run_cli("-r", str(reg), "models", "--max-results", "1", "--page-token", token, "--json")
    assert names(rest.stdout) == ["beta"] and rest.stderr == ""


def test_versions_filter_order_and_pages(reg: Path) -> None:
    out = run_cli("-r", str(reg), "versions", "alpha", "--filter", "tags.team = 'ml'", "--json")
    assert [v["version"] for v in json.loads(out.stdout)] == [1, 2]
    out = run_cli("-r", str(reg), "versions", "alpha", "--order-by", "version_number DESC", "--max-results", "1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1].startswith("3 ")
    assert "--page-token" in out.stderr
    table = run_cli("-r", str(reg), "versions", "alpha", "--filter", "version_number > 5")
    assert table.stdout.strip() == "No versions of model 'alpha' match."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["models", "--filter", "name='alpha' OR name='beta'"], "Only AND is supported"),
        (["models", "--filter", "name = 'alpha"], "Unterminated string"),
        (["models", "--order-by", "version_number"], "Invalid order by key 'version_number'"),
        (["models", "--max-results", "0"], "must be a positive integer"),
        (["models", "--max-results", "5000"], "at most 1000"),
        (["models", "--page-token", "nope"], "Invalid page token"),
        (["versions", "alpha", "--filter", "colour = 'red'"], "at character 1 of filter \"colour = 'red'\""),
        (["versions", "missing", "--filter", "version_number > 1"], "does not exist"),
    ],
)
def test_bad_search_options_are_one_line_errors(reg: Path, args: list[str], message: str) -> None:
    out = run_cli("-r", str(reg), *args)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert message in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
