"""gitreg.get_model_info agrees with mlflow.models.get_model_info on a version MLflow registered."""

from __future__ import annotations

from pathlib import Path

import pytest

import gitreg
from gitreg.registry import Registry

pytestmark = pytest.mark.usefixtures("mlflow_on_git")


def test_model_info_matches_mlflows_own(mlflow_on_git: Registry, mlflow_model_dir: Path) -> None:
    import mlflow.models
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    client.create_registered_model("iris")
    client.create_model_version("iris", str(mlflow_model_dir))
    theirs = mlflow.models.get_model_info("models:/iris/1")
    ours = gitreg.get_model_info("models:/iris/1", registry=mlflow_on_git)
    assert ours.flavors == theirs.flavors
    for field in ("artifact_path", "model_uuid", "utc_time_created", "mlflow_version", "run_id"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert ours.saved_input_example_info == theirs.saved_input_example_info
