"""A registered model's last_updated_timestamp, as MLflow reads it, moves on every change:
each change is a commit (on main or on a stage branch), and the newest one is the time."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("mlflow_on_git")


@pytest.fixture
def client(mlflow_model_dir: Path) -> Any:
    from mlflow.tracking import MlflowClient

    c = MlflowClient()
    for name in ("iris", "other"):
        c.create_registered_model(name)
        c.create_model_version(name, str(mlflow_model_dir))
    c.set_registered_model_alias("other", "champion", "1")  # so iris's alias branch outlives its alias
    return c


# In order: each is one kind of change to "iris", MLflow's calls on the gitreg store.
CHANGES: list[tuple[str, Callable[[Any, Path], Any]]] = [
    ("new version", lambda c, d: c.create_model_version("iris", str(d))),
    ("tag set", lambda c, d: c.set_registered_model_tag("iris", "team", "fraud")),
    ("tag deleted", lambda c, d: c.delete_registered_model_tag("iris", "team")),
    ("description", lambda c, d: c.update_registered_model("iris", "the seed model")),
    ("version tag", lambda c, d: c.set_model_version_tag("iris", "1", "data", "v2")),
    ("stage transition", lambda c, d: c.transition_model_version_stage("iris", "1", "Staging")),
    ("alias set", lambda c, d: c.set_registered_model_alias("iris", "champion", "1")),
    ("alias deleted", lambda c, d: c.delete_registered_model_alias("iris", "champion")),
]


def test_last_updated_moves_on_each_change_and_only_for_that_model(client: Any, mlflow_model_dir: Path) -> None:
    other = updated(client, "other")
    for change, make in CHANGES:
        before = updated(client, "iris")
        started = next_second()
        make(client, mlflow_model_dir)
        assert updated(client, "iris") >= started * 1000 > before, change
    assert updated(client, "other") == other


VERSION_CHANGES: list[tuple[str, Callable[[Any], Any]]] = [
    ("version description", lambda c: c.update_model_version("iris", "1", "checked")),
    ("stage transition", lambda c: c.transition_model_version_stage("iris", "1", "Staging")),
    ("alias set", lambda c: c.set_registered_model_alias("iris", "champion", "1")),
    ("alias deleted", lambda c: c.delete_registered_model_alias("iris", "champion")),
]


def test_a_versions_last_updated_moves_when_it_changes_and_only_for_it(client: Any, mlflow_model_dir: Path) -> None:
    client.create_model_version("iris", str(mlflow_model_dir))
    untouched = client.get_model_version("iris", "2").last_updated_timestamp
    for change, make in VERSION_CHANGES:
        started = next_second()
        make(client)
        assert int(client.get_model_version("iris", "1").last_updated_timestamp) >= started * 1000, change
        assert client.get_model_version("iris", "2").last_updated_timestamp == untouched, change
        model = client.get_registered_model("iris")
        assert int(model.last_updated_timestamp) >= started * 1000, change


def test_search_reports_the_same_time(client: Any) -> None:
    started = next_second()
    client.transition_model_version_stage("iris", "1", "Production")
    found = {m.name: m.last_updated_timestamp for m in client.search_registered_models()}
    assert found["iris"] == updated(client, "iris") >= started * 1000


def updated(client: Any, name: str) -> int:
    return int(client.get_registered_model(name).last_updated_timestamp)


def next_second() -> int:
    """Wait for the next whole second (git dates commits in seconds) and return it."""
    now = time.time()
    time.sleep(math.ceil(now) - now + 0.01)
    return math.ceil(now)
