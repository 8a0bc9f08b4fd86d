"""MLflow's own UI (``mlflow server --registry-store-uri gitreg:///…``) in headless Chromium:
it shows a git registry's models, versions, stages, aliases, schema and tags, and a stage
change and an alias set by clicking through it are commits on the registry's stage branches.

Screenshots go to ``test-artifacts/ui/mlflow-*.png``. Skipped without playwright or Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import shot  # tests/ui, on the path through conftest
from helpers.gitcli import git

from gitreg import package
from gitreg.client import Client
from gitreg.registry import Registry

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

#: Keeps MLflow's assistant panel (opened for a first-time visitor) off the screenshots.
QUIET_UI = """
localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');
localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');
"""
#: MLflow's choice between its stage-based ("true": the legacy pages) and alias-based registry pages.
LEGACY_UI_KEY = "_mlflow_user_setting_dismiss_next_model_registry_ui"


@pytest.fixture
def iris(git_registry: Registry, saved_model: Path) -> Registry:
    """iris v1 (Production, @champion, tag team=fraud) and v2 (no stage), signature ``x: double``."""
    for _ in range(2):
        git_registry.register("iris", package.from_directory(saved_model, source="runs:/abc/model"))
    client = Client(git_registry)
    client.set_model_version_tag("iris", "1", "team", "fraud")
    git_registry.promote("iris", 1, "Production")
    client.set_registered_model_alias("iris", "champion", 1)
    return git_registry


@pytest.fixture
def mlflow_ui(iris: Registry, mlflow_server: str) -> str:
    """``mlflow server`` (conftest's ``mlflow_server``) on ``iris``, started once iris is registered."""
    return mlflow_server


@pytest.fixture
def ui(page: Any, mlflow_ui: str) -> Iterator[Any]:
    """A page on MLflow's UI that records every registry call the UI makes that gitreg refused."""
    page.context.add_init_script(QUIET_UI)
    # MLflow announces its alias-based pages over the stage-based models list: close it as a user would.
    announcement = page.get_by_role("dialog").filter(has_text="with the new Model Registry UI")
    page.add_locator_handler(announcement, lambda dialog: dialog.get_by_role("button", name="Close").click())
    refused: list[str] = []

    def record(response: Any) -> None:
        registry_call = "/mlflow/registered-models" in response.url or "/mlflow/model-versions" in response.url
        if registry_call and response.status >= 400:
            refused.append(f"{response.status} {response.request.method} {response.url}")

    page.on("response", record)
    yield page
    assert not refused, f"the gitreg store refused what MLflow's UI asked: {refused}"


def _open(page: Any, base: str, fragment: str, *, new_ui: bool) -> None:
    """Open ``#/fragment`` in MLflow's stage-based (``new_ui=False``) or alias-based pages. The
    choice is MLflow's own switch, kept in localStorage; set there and reloaded, not clicked, so
    it cannot race the app's first render."""
    page.goto(f"{base}/#/{fragment}")
    page.evaluate("([key, value]) => localStorage.setItem(key, value)", [LEGACY_UI_KEY, str(not new_ui).lower()])
    page.reload()
    switch = page.get_by_role("switch", name="New model registry UI")
    expect(switch).to_have_attribute("aria-checked", str(new_ui).lower())


def _row(page: Any, text: str) -> Any:
    return page.get_by_role("row").filter(has_text=text)


def _cells(page: Any, row_text: str) -> dict[str, str]:
    """The cells of the table row holding ``row_text``, by column header."""
    headers = page.get_by_role("columnheader").all_inner_texts()
    cells = _row(page, row_text).first.get_by_role("cell").all_inner_texts()
    return {h.strip(): c.strip() for h, c in zip(headers, cells, strict=True)}


@pytest.mark.slow
def test_mlflow_ui_shows_models_versions_stages_aliases_schema_and_tags(ui: Any, mlflow_ui: str) -> None:
    _open(ui, mlflow_ui, "models", new_ui=False)
    ui.get_by_role("columnheader", name="Production").wait_for()
    row = _cells(ui, "iris")
    assert (row["Latest version"], row["Staging"], row["Production"]) == ("Version 2", "—", "Version 1")
    shot(ui, "mlflow-models-stages")

    _open(ui, mlflow_ui, "models", new_ui=True)
    ui.get_by_role("columnheader", name="Aliased versions").wait_for()
    assert "champion" in _cells(ui, "iris")["Aliased versions"]
    shot(ui, "mlflow-models")

    _open(ui, mlflow_ui, "models/iris", new_ui=False)
    ui.get_by_role("columnheader", name="Stage").wait_for()
    ui.get_by_role("link", name="Version 1").wait_for()
    assert _cells(ui, "Version 1")["Stage"] == "Production"
    assert _cells(ui, "Version 2")["Stage"] == "None"
    shot(ui, "mlflow-versions-stages")

    _open(ui, mlflow_ui, "models/iris", new_ui=True)
    ui.get_by_role("columnheader", name="Aliases").wait_for()
    ui.get_by_role("link", name="Version 1").wait_for()
    assert "champion" in _cells(ui, "Version 1")["Aliases"]
    assert "champion" not in _cells(ui, "Version 2")["Aliases"]
    assert "fraud" in _cells(ui, "Version 1")["Tags"]
    shot(ui, "mlflow-versions-aliases")

    _open(ui, mlflow_ui, "models/iris/versions/1", new_ui=True)
    ui.get_by_text("Inputs (1)").click()
    _row(ui, "x (required)").wait_for()
    assert "double" in _row(ui, "x (required)").inner_text()
    assert "fraud" in _row(ui, "team").inner_text()
    assert ui.get_by_text("@ champion").is_visible()
    assert ui.get_by_text("Production", exact=True).is_visible()
    shot(ui, "mlflow-version")


@pytest.mark.slow
def test_stage_change_and_alias_set_in_mlflow_ui_are_git_commits(ui: Any, mlflow_ui: str, iris: Registry) -> None:
    repo = iris.path
    commits_before = int(git(repo, "rev-list", "--all", "--count"))

    _open(ui, mlflow_ui, "models/iris/versions/2", new_ui=False)
    ui.get_by_text("None", exact=True).first.click()
    ui.get_by_role("menuitem").filter(has_text="Staging").click()
    dialog = ui.get_by_role("dialog")
    dialog.get_by_role("button", name="OK").click()
    dialog.wait_for(state="hidden")
    ui.get_by_text("Staging", exact=True).first.wait_for()
    shot(ui, "mlflow-stage-change")
    assert git(repo, "log", "-1", "--format=%s", "stages/staging").strip() == "Promote iris version 2 to Staging"
    assert git(repo, "rev-parse", "stages/staging:models/iris") == git(repo, "rev-parse", "iris/v2^{}:models/iris")

    _open(ui, mlflow_ui, "models/iris/versions/2", new_ui=True)
    ui.get_by_role("button", name="Add").first.click()
    dialog.get_by_role("combobox").fill("challenger")
    ui.keyboard.press("Enter")
    dialog.get_by_role("button", name="Save aliases").click()
    dialog.wait_for(state="hidden")
    ui.get_by_text("@ challenger").wait_for()
    shot(ui, "mlflow-alias-set")
    assert git(repo, "log", "-1", "--format=%s", "stages/challenger").strip() == "Promote iris version 2 to challenger"
    assert git(repo, "rev-parse", "stages/challenger:models/iris") == git(repo, "rev-parse", "iris/v2^{}:models/iris")

    assert int(git(repo, "rev-list", "--all", "--count")) == commits_before + 2
    assert Client(iris).get_model_version_by_alias("iris", "challenger").version == 2
