"""gitreg import-mlflow against a real MLflow sqlite registry: numbers, gaps, files, run data,
stages and aliases carried over; `gitreg check` clean afterwards; a re-run writes nothing."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gitreg.registry import Registry


@pytest.fixture(scope="module")
def mlflow_registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An MLflow sqlite registry: ``iris`` 1-4 with 2 deleted, 1 in Production, 3 in Staging,
    alias ``champion`` -> 3; ``churn`` 1-2 with descriptions (no run id given), 2 Archived; ``empty`` with none."""
    import mlflow
    import mlflow.sklearn
    from mlflow.tracking import MlflowClient

    from gitreg.testing import seed_model

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    try:  # no set_experiment: it would leave this store's experiment active for later tests
        # its artifacts under root: a sqlite store's experiments default to ./mlruns, in the checkout
        experiment = MlflowClient(uri).create_experiment("import", artifact_location=(root / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=experiment) as run:
            mlflow.log_metric("accuracy", 0.83)
            mlflow.log_param("C", "1.0")
            logged = mlflow.sklearn.log_model(seed_model(), name="model", pip_requirements=["scikit-learn"])
        client = MlflowClient(uri)
        client.create_registered_model("iris", tags={"team": "fraud"}, description="the seed model")
        for _ in range(4):
            client.create_model_version("iris", logged.model_uri, run_id=run.info.run_id, tags={"data": "v1"})
        client.delete_model_version("iris", "2")
        client.transition_model_version_stage("iris", "1", "Production")
        client.transition_model_version_stage("iris", "3", "Staging")
        client.set_registered_model_alias("iris", "champion", "3")
        client.create_registered_model("churn")
        for _ in range(2):
            client.create_model_version("churn", logged.model_uri, description="a churn model")
        client.transition_model_version_stage("churn", "2", "Archived")
        client.create_registered_model("empty")
    finally:
        mlflow.set_tracking_uri(None)
    with sqlite3.connect(root / "mlflow.db") as db:  # MLflow's client sets no user; its server would
        db.execute("UPDATE model_versions SET user_id = 'alice@example.com' WHERE name = 'churn'")
    return uri


def run_import(registry: Path, *args: str) -> Any:
    from gitreg.cli.mlflow_cmds import import_mlflow

    return CliRunner().invoke(import_mlflow, ["-r", str(registry), *args], catch_exceptions=False)


def check(registry: Path) -> Any:
    from gitreg.cli import cli

    return CliRunner().invoke(cli, ["check", "-r", str(registry)])


def test_import_copies_every_model_version_stage_and_alias(tmp_path: Path, mlflow_registry: str) -> None:
    reg = Registry.init(tmp_path / "git")
    result = run_import(reg.path, "--tracking-uri", mlflow_registry)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 3 models, 5 versions, 3 stage moves, 1 alias; 0 already present"
    assert sorted(reg.model_names()) == ["churn", "empty", "iris"]
    assert reg.version_numbers("iris") == [1, 3, 4]
    assert reg.record("iris").deleted == (2,)
    assert reg.stages_of("iris") == {"production": 1, "staging": 3, "champion": 3}
    assert reg.stages_of("churn") == {"archived": 2}
    model = reg.get_model("iris")
    assert (model.description, model.tags) == ("the seed model", {"team": "fraud"})
    v3 = reg.get_version("iris", 3)
    assert v3.tags == {"data": "v1"} and v3.source and v3.source.startswith("models:/m-")
    assert (v3.metrics, v3.params) == ({"accuracy": 0.83}, {"C": "1.0"})
    assert reg.get_version("churn", 1).description == "a churn model"
    assert check(reg.path).exit_code == 0


def test_import_keeps_mlflow_creation_times_and_users(tmp_path: Path, mlflow_registry: str) -> None:
    from mlflow.tracking import MlflowClient

    mlflow = MlflowClient(mlflow_registry)
    reg = Registry.init(tmp_path / "git")
    run_import(reg.path, "--tracking-uri", mlflow_registry)
    for name, number in (("iris", 1), ("iris", 4), ("churn", 2)):
        theirs, ours = mlflow.get_model_version(name, str(number)), reg.get_version(name, number)
        assert ours.creation_timestamp == theirs.creation_timestamp, (name, number)
    assert reg.get_version("churn", 1).user_id == "alice@example.com"
    assert reg.get_version("iris", 1).user_id == str(reg.store.identity())  # MLflow recorded none
    assert reg.record("iris").created == mlflow.get_registered_model("iris").creation_timestamp
    assert check(reg.path).exit_code == 0


def test_imported_version_loads_and_predicts(tmp_path: Path, mlflow_registry: str) -> None:
    import gitreg.pyfunc

    reg = Registry.init(tmp_path / "git")
    run_import(reg.path, "--tracking-uri", mlflow_registry, "--model", "iris")
    model = gitreg.pyfunc.load_model("models:/iris/Staging", registry=reg)
    assert list(model.predict([[1], [2], [3]])) == [1, 1, 1]
    files = {a.path for a in reg.version_ref("iris", 3).manifest.artifacts}
    assert "MLmodel" in files and "registered_model_meta" not in files


def test_a_rerun_imports_nothing_and_leaves_main_as_it_was(tmp_path: Path, mlflow_registry: str) -> None:
    reg = Registry.init(tmp_path / "git")
    run_import(reg.path, "--tracking-uri", mlflow_registry)
    heads = {ref: reg.store.ref(ref) for ref in ("refs/heads/main", "refs/heads/stages/production")}
    again = run_import(reg.path, "--tracking-uri", mlflow_registry, "--json")
    assert again.exit_code == 0, again.output
    said = json.loads(again.stdout)
    assert (said["models"], said["versions"], said["stages"], said["aliases"], said["present"]) == (0, 0, 0, 0, 5)
    assert {ref: reg.store.ref(ref) for ref in heads} == heads


def test_only_the_named_models_are_imported(tmp_path: Path, mlflow_registry: str) -> None:
    reg = Registry.init(tmp_path / "git")
    result = run_import(reg.path, "--tracking-uri", mlflow_registry, "--model", "churn")
    assert result.stdout.strip() == "imported 1 model, 2 versions, 1 stage move, 0 aliases; 0 already present"
    assert reg.model_names() == ["churn"]


def test_a_model_mlflow_does_not_have_is_refused(tmp_path: Path, mlflow_registry: str) -> None:
    from gitreg.errors import NotFoundError

    reg = Registry.init(tmp_path / "git")
    with pytest.raises(NotFoundError, match="no registered model 'nope'"):
        run_import(reg.path, "--tracking-uri", mlflow_registry, "--model", "nope")
    assert reg.model_names() == []


def test_numbers_gitreg_already_used_for_other_versions_are_refused(
    tmp_path: Path, mlflow_registry: str, saved_model: Path
) -> None:
    from gitreg.errors import ConflictError
    from gitreg.package import from_directory

    reg = Registry.init(tmp_path / "git")
    reg.register("iris", from_directory(saved_model))
    before = reg.store.ref("refs/heads/main")
    with pytest.raises(ConflictError, match="not MLflow's"):
        run_import(reg.path, "--tracking-uri", mlflow_registry, "--model", "iris")
    assert reg.store.ref("refs/heads/main") == before


def test_without_mlflow_the_error_names_the_extra(
    tmp_path: Path, mlflow_registry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitreg.errors import MissingExtraError

    reg = Registry.init(tmp_path / "git")
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ModuleNotFoundError
    monkeypatch.delitem(sys.modules, "gitreg.mlflow_plugin.importer", raising=False)
    with pytest.raises(MissingExtraError, match=r"gitreg-registry\[mlflow\]"):
        run_import(reg.path, "--tracking-uri", mlflow_registry)
    assert reg.model_names() == []
