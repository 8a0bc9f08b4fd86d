"""last_updated_timestamp moves on every change, for the model and for the version that changed,
in gitreg's client and CLI alike (gitreg.registry.activity: the newest commit that touched it)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import gitreg
from gitreg.registry import Package, Registry


@pytest.fixture
def reg(tmp_path: Path) -> Registry:
    """``iris`` versions 1 and 2; ``other`` holds alias ``champion``, so that branch outlives iris's alias."""
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "model.pkl").write_bytes(b"a model")
    package = Package(root=root, files=("model.pkl",), flavor="python_function")
    registry = Registry.init(tmp_path / "registry")
    for name in ("iris", "iris", "other"):
        registry.register(name, package)
    registry.set_alias("other", "champion", 1)
    return registry


CHANGES: list[tuple[str, Callable[[Any], Any]]] = [
    ("stage move", lambda c: c.transition_model_version_stage("iris", 1, "Staging")),
    ("alias set", lambda c: c.set_registered_model_alias("iris", "champion", 1)),
    ("alias deleted", lambda c: c.delete_registered_model_alias("iris", "champion")),
    ("version description", lambda c: c.update_model_version("iris", 1, "checked")),
    ("version tag", lambda c: c.set_model_version_tag("iris", 1, "data", "v2")),
]


def test_each_change_moves_the_model_and_the_changed_version_only(reg: Registry) -> None:
    client = gitreg.Client(reg)
    other = client.get_registered_model("other").last_updated_timestamp
    v2 = client.get_model_version("iris", 2).last_updated_timestamp
    for change, make in CHANGES:
        before = client.get_registered_model("iris").last_updated_timestamp
        started = next_second()
        make(client)
        model = client.get_registered_model("iris")
        assert model.last_updated_timestamp >= started * 1000 > before, change
        assert client.get_model_version("iris", 1).last_updated_timestamp >= started * 1000, change
        assert client.get_model_version("iris", 2).last_updated_timestamp == v2, change
    assert client.get_registered_model("other").last_updated_timestamp == other


def test_a_version_never_changed_is_last_updated_when_it_was_created(reg: Registry) -> None:
    next_second()
    reg.promote("iris", 1, "Production")
    mv = gitreg.Client(reg).get_model_version("iris", 2)
    assert mv.last_updated_timestamp == mv.creation_timestamp


def test_moving_a_version_out_of_a_stage_dates_it_too(reg: Registry) -> None:
    reg.promote("iris", 1, "Production")
    started = next_second()
    reg.promote("iris", 2, "Production")  # version 1 leaves Production
    client = gitreg.Client(reg)
    assert client.get_model_version("iris", 1).last_updated_timestamp >= started * 1000
    assert client.get_model_version("iris", 2).last_updated_timestamp >= started * 1000


def test_listings_and_the_version_search_report_the_same_times(reg: Registry) -> None:
    started = next_second()
    reg.set_alias("iris", "champion", 1)
    client = gitreg.Client(reg)
    model = client.get_registered_model("iris")
    assert model.last_updated_timestamp >= started * 1000
    listed = {m.name: m for m in client.search_registered_models()}
    assert listed["iris"].last_updated_timestamp == model.last_updated_timestamp
    assert listed["other"].last_updated_timestamp < started * 1000
    found = {mv.version: mv.last_updated_timestamp for mv in client.search_model_versions("name = 'iris'")}
    assert found[1] >= started * 1000 and found[2] < started * 1000
    by_time = client.search_model_versions("name = 'iris'", order_by=["last_updated_timestamp DESC"])
    assert [mv.version for mv in by_time] == [1, 2]


def test_the_cli_json_reports_the_moved_times(reg: Registry) -> None:
    from gitreg.cli import cli

    started = next_second()
    reg.promote("iris", 2, "Staging")
    runner = CliRunner()
    shown = json.loads(runner.invoke(cli, ["show", "iris", "--json", "-r", str(reg.path)]).stdout)
    listed = json.loads(runner.invoke(cli, ["models", "--json", "-r", str(reg.path)]).stdout)
    version = json.loads(runner.invoke(cli, ["show", "models:/iris/2", "--json", "-r", str(reg.path)]).stdout)
    iris = next(m for m in listed if m["name"] == "iris")
    assert shown["last_updated_timestamp"] == iris["last_updated_timestamp"] >= started * 1000
    assert version["last_updated_timestamp"] >= started * 1000
    latest = {v["version"]: v["last_updated_timestamp"] for v in iris["latest_versions"]}
    assert latest[2] >= started * 1000


def next_second() -> int:
    """Wait for the next whole second (git dates commits in seconds) and return it."""
    now = time.time()
    time.sleep(math.ceil(now) - now + 0.01)
    return math.ceil(now)


def test_deleting_an_alias_with_its_branch_does_not_turn_the_times_back(reg: Registry) -> None:
    client = gitreg.Client(reg)
    started = next_second()
    client.set_registered_model_alias("iris", "lone", 1)
    set_at = client.get_registered_model("iris").last_updated_timestamp
    assert set_at >= started * 1000
    client.delete_registered_model_alias("iris", "lone")
    assert reg.store.ref("refs/heads/stages/lone") is None  # no stray branch, and no commit dates the deletion
    assert client.get_registered_model("iris").last_updated_timestamp == set_at
    assert client.get_model_version("iris", 1).last_updated_timestamp >= started * 1000


def test_the_index_is_derived_data_rebuilt_from_the_history(reg: Registry) -> None:
    from gitreg.registry.activity import INDEX_FILE

    started = next_second()
    reg.promote("iris", 1, "Production")
    client = gitreg.Client(reg)
    before = client.get_registered_model("iris")
    (reg.store.git_dir / INDEX_FILE).unlink()
    again = client.get_registered_model("iris")
    assert again.last_updated_timestamp == before.last_updated_timestamp >= started * 1000
    assert again.latest_versions == before.latest_versions
    (reg.store.git_dir / INDEX_FILE).write_text("{not json")
    assert client.get_registered_model("iris").last_updated_timestamp == before.last_updated_timestamp


def test_a_rewritten_stage_branch_is_read_again(reg: Registry, git_in: Any) -> None:
    reg.promote("iris", 1, "Production")
    client = gitreg.Client(reg)
    first = client.get_model_version("iris", 2).last_updated_timestamp
    started = next_second()
    reg.promote("iris", 2, "Production")
    assert client.get_model_version("iris", 2).last_updated_timestamp >= started * 1000
    git_in(reg.path, "update-ref", "refs/heads/stages/production", "refs/heads/stages/production~1")  # rolled back
    assert client.get_model_version("iris", 2).last_updated_timestamp == first
