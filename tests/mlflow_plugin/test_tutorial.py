"""The seed tutorial's own code, ``import mlflow`` unchanged, with only ``MLFLOW_REGISTRY_URI``
pointing at a git registry: every registration is a commit and a tag, loads come from git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from gitreg.registry import Registry
from gitreg.testing import run_cli


def train() -> str:
    """The tutorial's ``train.py`` (one ``mlflow run`` of it: the run ends with the process)."""
    import mlflow
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    X = np.array([-2, -1, 0, 1, 2, 1]).reshape(-1, 1)
    y = np.array([0, 0, 1, 1, 1, 0])
    lr = LogisticRegression()
    lr.fit(X, y)
    score = lr.score(X, y)
    print("Score: %s" % score)  # noqa: UP031 (the tutorial's own code)
    mlflow.log_metric("score", score)

    mlflow.sklearn.log_model(lr, "model", registered_model_name="LogisticRegression")
    # The one change: MLflow 3 removed RunInfo.run_uuid (MLflow's change, not gitreg's); run_id is its name now.
    run_id = mlflow.active_run().info.run_id
    print("Model saved in run %s" % run_id)  # noqa: UP031 (the tutorial's own code)
    mlflow.end_run()
    return run_id


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_seed_tutorial_runs_unchanged_on_a_git_registry(mlflow_on_git: Registry, tmp_path: Path) -> None:
    import mlflow
    import mlflow.pyfunc
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    registry = mlflow_on_git
    # 3-1: log_model(registered_model_name=) twice: versions 1 and 2.
    train()
    RUN_ID = train()
    assert [mv.version for mv in MlflowClient().search_model_versions("name='LogisticRegression'")] == ["2", "1"]

    # 3-2: mlflow.register_model (with the tutorial's own spelling of the name).
    result = mlflow.register_model(model_uri=f"runs:/{RUN_ID}/model", name="LogisticRegresion")
    assert (result.name, result.version) == ("LogisticRegresion", "1")

    # 3-3: the client. The model exists already, so MLflow's answer is RESOURCE_ALREADY_EXISTS.
    model_name = "LogisticRegression"
    EXPERIMENT_ID = 0
    client = MlflowClient()
    with pytest.raises(MlflowException) as exists:
        client.create_registered_model(model_name)
    assert exists.value.error_code == "RESOURCE_ALREADY_EXISTS"
    result = client.create_model_version(
        name=model_name, source=f"artifacts/{EXPERIMENT_ID}/{RUN_ID}/artifacts/model", run_id=RUN_ID
    )
    assert result.version == "3"

    # 4: load a version, then by stage and by alias.
    model = mlflow.pyfunc.load_model(model_uri=f"models:/{model_name}/2")
    X = np.array([[1], [2], [3]])
    assert model.predict(X).tolist() == [1, 1, 1]
    staged = client.transition_model_version_stage(model_name, 2, "Staging")
    assert (staged.version, staged.current_stage) == ("2", "Staging")
    assert mlflow.pyfunc.load_model(f"models:/{model_name}/Staging").predict(X).tolist() == [1, 1, 1]
    client.set_registered_model_alias(model_name, "champion", 2)
    assert client.get_model_version_by_alias(model_name, "champion").version == "2"
    assert mlflow.pyfunc.load_model(f"models:/{model_name}@champion").predict(X).tolist() == [1, 1, 1]
    assert client.get_registered_model(model_name).aliases == {"champion": "2"}

    # What git holds: the MLflow source URI and run id, the run's metric, no registered_model_meta.
    v2 = registry.version_ref(model_name, 2).manifest
    assert v2.provenance.run_id == RUN_ID
    assert (v2.provenance.source or "").startswith("models:/m-")
    assert v2.metrics == {"score": pytest.approx(4 / 6)}
    assert "registered_model_meta" not in {a.path for a in v2.artifacts}
    v3 = registry.version_ref(model_name, 3).manifest
    assert v3.provenance.source == f"artifacts/0/{RUN_ID}/artifacts/model"
    assert not list((tmp_path / "env" / "cache").rglob("registered_model_meta")), "MLflow wrote into gitreg's cache"

    check = run_cli("check", "-r", str(registry.path))
    assert check.returncode == 0, check.stdout + check.stderr
    log = git(registry.path, "log", "--all", "--format=%D|%s")
    for version in (1, 2, 3):
        assert f"tag: {model_name}/v{version}" in log
        assert f"Register {model_name} version {version}" in log
    assert "tag: LogisticRegresion/v1" in log
    branches = git(registry.path, "branch", "--list", "--format=%(refname:short)")
    assert "stages/staging" in branches.split()
    assert "stages/champion" in branches.split()
