"""MlflowClient's registry calls answered by GitregRegistryStore: MLflow's entities and error codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg.registry import Registry

pytestmark = pytest.mark.usefixtures("mlflow_on_git")


@pytest.fixture
def client():  # type: ignore[no-untyped-def]
    from mlflow.tracking import MlflowClient

    return MlflowClient()


@pytest.fixture
def two_versions(client, mlflow_model_dir: Path) -> str:  # type: ignore[no-untyped-def]
    client.create_registered_model("iris", tags={"team": "fraud"}, description="the seed model")
    for _ in range(2):
        client.create_model_version("iris", str(mlflow_model_dir), tags={"data": "v1"})
    return "iris"


def error_code(call, *args):  # type: ignore[no-untyped-def]
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as raised:
        call(*args)
    return raised.value.error_code


def test_store_is_found_through_the_entry_point(mlflow_on_git: Registry) -> None:
    from mlflow.tracking._model_registry.utils import _get_store

    from gitreg.mlflow_plugin.store import GitregRegistryStore

    assert isinstance(_get_store(), GitregRegistryStore)


def test_versions_are_mlflow_entities_with_string_versions(client, two_versions: str) -> None:  # type: ignore[no-untyped-def]
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel

    mv = client.get_model_version("iris", "2")
    assert isinstance(mv, ModelVersion)
    assert (mv.version, mv.current_stage, mv.status, mv.tags) == ("2", "None", "READY", {"data": "v1"})
    model = client.get_registered_model("iris")
    assert isinstance(model, RegisteredModel)
    assert (model.tags, model.description) == ({"team": "fraud"}, "the seed model")
    assert [v.version for v in model.latest_versions] == ["2"]


def test_missing_and_duplicate_models_carry_mlflows_error_codes(client, two_versions: str) -> None:  # type: ignore[no-untyped-def]
    assert error_code(client.get_registered_model, "nope") == "RESOURCE_DOES_NOT_EXIST"
    assert error_code(client.get_model_version, "iris", "9") == "RESOURCE_DOES_NOT_EXIST"
    assert error_code(client.create_registered_model, "iris") == "RESOURCE_ALREADY_EXISTS"
    assert error_code(client.create_model_version, "nope", "/nowhere") == "RESOURCE_DOES_NOT_EXIST"
    assert error_code(client.create_registered_model, "bad/../name") == "INVALID_PARAMETER_VALUE"
    assert error_code(client.search_model_versions, "name LIKE") == "INVALID_PARAMETER_VALUE"


def test_search_pages_with_mlflows_grammar(client, two_versions: str, mlflow_model_dir: Path) -> None:  # type: ignore[no-untyped-def]
    client.create_registered_model("other")
    page = client.search_registered_models(max_results=1)
    assert [m.name for m in page] == ["iris"] and page.token
    assert [m.name for m in client.search_registered_models(max_results=1, page_token=page.token)] == ["other"]
    assert [m.name for m in client.search_registered_models("tags.team = 'fraud'")] == ["iris"]
    found = client.search_model_versions("name = 'iris'", order_by=["version_number ASC"])
    assert [v.version for v in found] == ["1", "2"]


def test_stages_tags_aliases_rename_and_delete(client, two_versions: str) -> None:  # type: ignore[no-untyped-def]
    client.transition_model_version_stage("iris", "1", "Production")
    moved = client.transition_model_version_stage("iris", "2", "Production", archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert client.get_model_version("iris", "1").current_stage == "Archived"
    assert [v.version for v in client.get_latest_versions("iris", ["Production"])] == ["2"]
    client.set_model_version_tag("iris", "1", "checked", "yes")
    client.delete_model_version_tag("iris", "1", "data")
    assert client.get_model_version("iris", "1").tags == {"checked": "yes"}
    client.set_registered_model_tag("iris", "owner", "ana")
    client.delete_registered_model_tag("iris", "team")
    assert client.get_registered_model("iris").tags == {"owner": "ana"}
    client.set_registered_model_alias("iris", "champion", "1")
    assert client.get_model_version("iris", "1").aliases == ["champion"]
    client.delete_registered_model_alias("iris", "champion")
    assert error_code(client.get_model_version_by_alias, "iris", "champion") == "RESOURCE_DOES_NOT_EXIST"
    client.update_model_version("iris", "1", description="first")
    assert client.get_model_version("iris", "1").description == "first"
    client.rename_registered_model("iris", "flowers")
    assert [v.version for v in client.search_model_versions("name = 'flowers'")] == ["2", "1"]
    client.delete_model_version("flowers", "1")
    assert error_code(client.get_model_version, "flowers", "1") == "RESOURCE_DOES_NOT_EXIST"
    client.delete_registered_model("flowers")
    assert error_code(client.get_registered_model, "flowers") == "RESOURCE_DOES_NOT_EXIST"


def test_copy_model_version_copies_within_git(client, two_versions: str, mlflow_on_git: Registry) -> None:  # type: ignore[no-untyped-def]
    src = client.get_model_version("iris", "2")
    copied = client.copy_model_version(f"models:/iris/{src.version}", "iris-prod")
    assert (copied.name, copied.version) == ("iris-prod", "1")
    assert (
        mlflow_on_git.version_ref("iris-prod", 1).manifest.artifacts
        == mlflow_on_git.version_ref("iris", 2).manifest.artifacts
    )


def test_download_copies_out_of_the_cache_and_lists(client, two_versions: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import mlflow.artifacts
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    uri = client.get_model_version_download_uri("iris", "1")
    assert uri.startswith("gitreg:///") and uri.endswith("?model=iris&version=1")
    repo = get_artifact_repository(uri)
    listed = {f.path: f.is_dir for f in repo.list_artifacts()}
    assert (listed["MLmodel"] is False and "model.skops" in listed) or "model.pkl" in listed
    assert repo.list_artifacts("MLmodel") == []
    dst = tmp_path / "dst"
    dst.mkdir()
    local = Path(mlflow.artifacts.download_artifacts("models:/iris/1", dst_path=str(dst)))
    assert (local / "registered_model_meta").is_file()  # MLflow's own file, written in MLflow's copy
    assert not list((tmp_path / "env" / "cache").rglob("registered_model_meta"))
    single = Path(repo.download_artifacts("MLmodel", str(dst)))
    assert single.read_text().startswith("artifact_path") or "flavors" in single.read_text()
    assert error_code(repo.log_artifact, str(single)) == "INVALID_PARAMETER_VALUE"
