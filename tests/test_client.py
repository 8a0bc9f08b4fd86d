"""The MLflow-shaped client: the tutorial's three ways of registering and the registry calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import gitreg
import gitreg.sklearn
from gitreg.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from gitreg.registry import Registry


def test_log_model_with_a_registered_name_announces_versions_as_mlflow_does(
    registry: Registry, seed_model: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    info = gitreg.sklearn.log_model(seed_model, "model", registered_model_name="LogisticRegression")
    assert info.registered_model_version == 1
    assert "Successfully registered model 'LogisticRegression'." in capsys.readouterr().err
    gitreg.sklearn.log_model(seed_model, "model", registered_model_name="LogisticRegression")
    err = capsys.readouterr().err
    assert "Registered model 'LogisticRegression' already exists. Creating a new version of this model..." in err
    assert "Created version '2' of model 'LogisticRegression'." in err


def test_log_model_without_a_name_gives_a_uri_that_register_model_accepts(registry: Registry, seed_model: Any) -> None:
    gitreg.log_metric("score", 0.5)
    info = gitreg.sklearn.log_model(seed_model, "model")
    assert info.registered_model_version is None and info.model_uri.startswith("runs:/")
    mv = gitreg.register_model(info.model_uri, "LR", tags={"k": "v"}, description="d")
    assert (mv.version, mv.tags, mv.description, mv.metrics) == (1, {"k": "v"}, "d", {"score": 0.5})
    assert mv.run_id == info.run_id


def test_create_registered_model_then_create_model_version(registry: Registry, saved_model: Path) -> None:
    client = gitreg.Client()
    client.create_registered_model("Other", tags={"team": "a"}, description="x")
    mv = client.create_model_version("Other", source=str(saved_model), run_id="r1")
    assert (mv.version, mv.run_id, mv.source) == (1, "r1", str(saved_model))
    with pytest.raises(AlreadyExistsError):
        client.create_registered_model("Other")
    with pytest.raises(NotFoundError):
        client.create_model_version("Missing", source=str(saved_model))


def test_transition_and_get_latest_versions(registry: Registry, saved_model: Path) -> None:
    client = gitreg.Client()
    for _ in range(3):
        gitreg.register_model(str(saved_model), "M")
    client.transition_model_version_stage("M", 1, "Staging")
    client.transition_model_version_stage("M", 2, "Production")
    latest = {v.current_stage: v.version for v in client.get_latest_versions("M")}
    assert latest == {"Staging": 1, "Production": 2, "None": 3}
    assert [v.version for v in client.get_latest_versions("M", stages=["Production"])] == [2]


def test_aliases(registry: Registry, saved_model: Path) -> None:
    client = gitreg.Client()
    gitreg.register_model(str(saved_model), "M")
    client.set_registered_model_alias("M", "champion", 1)
    assert client.get_model_version_by_alias("M", "champion").version == 1
    assert client.get_registered_model("M").aliases == {"champion": 1}
    client.delete_registered_model_alias("M", "champion")
    with pytest.raises(NotFoundError):
        client.get_model_version_by_alias("M", "champion")


def test_search_filters(registry: Registry, saved_model: Path) -> None:
    client = gitreg.Client()
    gitreg.register_model(str(saved_model), "LogReg", tags={"team": "risk"})
    gitreg.register_model(str(saved_model), "Forest")
    client.set_registered_model_tag("Forest", "team", "ops")
    assert [m.name for m in client.search_registered_models("name LIKE 'Log%'")] == ["LogReg"]
    assert [m.name for m in client.search_registered_models("tags.team = 'ops'")] == ["Forest"]
    assert [(v.name, v.version) for v in client.search_model_versions("name='LogReg'")] == [("LogReg", 1)]
    assert [v.name for v in client.search_model_versions("tags.team='risk'")] == ["LogReg"]
    with pytest.raises(InvalidInputError, match="filter"):
        client.search_model_versions("name ~ 'x'")


def test_version_and_model_metadata_updates(registry: Registry, saved_model: Path) -> None:
    client = gitreg.Client()
    gitreg.register_model(str(saved_model), "M")
    client.update_model_version("M", 1, description="better")
    client.set_model_version_tag("M", 1, "k", "v")
    client.delete_model_version_tag("M", 1, "k")
    client.update_registered_model("M", description="desc")
    mv = client.get_model_version("M", "1")
    assert (mv.description, mv.tags) == ("better", {})
    assert client.get_registered_model("M").description == "desc"
    with pytest.raises(NotFoundError):
        client.delete_registered_model_tag("M", "missing")


def test_rename_and_delete(registry: Registry, saved_model: Path) -> None:
    client = gitreg.Client()
    gitreg.register_model(str(saved_model), "A")
    client.rename_registered_model("A", "B")
    assert client.get_model_version("B", 1).name == "B"
    client.delete_model_version("B", 1)
    with pytest.raises(NotFoundError):
        client.get_model_version("B", 1)
    client.delete_registered_model("B")
    assert client.search_registered_models() == []


def test_download_uri_is_a_verified_local_directory(registry: Registry, saved_model: Path) -> None:
    gitreg.register_model(str(saved_model), "M")
    path = Path(gitreg.Client().get_model_version_download_uri("M", 1))
    assert (path / "model.pkl").is_file() and (path / "MLmodel").is_file()


def test_registry_precedence_argument_then_set_registry_then_env_then_cwd(
    tmp_path: Path, saved_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = (Registry.init(tmp_path / n) for n in "abc")
    monkeypatch.chdir(c.path)
    assert gitreg.get_registry() == str(c.path)
    monkeypatch.setenv("GITREG_REGISTRY", str(b.path))
    assert gitreg.get_registry() == str(b.path)
    gitreg.set_registry(a.path)
    assert gitreg.get_registry() == str(a.path)
    mv = gitreg.register_model(str(saved_model), "M", registry=c.path)
    assert mv.version == 1 and c.version_numbers("M") == [1]


def test_no_registry_anywhere_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="gitreg init PATH"):
        gitreg.Client().search_registered_models()
