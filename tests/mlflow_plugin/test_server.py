"""A real ``mlflow server --registry-store-uri gitreg:///…`` on 127.0.0.1 answers MLflow's REST API from git."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from gitreg import package
from gitreg.registry import Registry


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
def test_rest_api_answers_from_git(git_registry: Registry, saved_model: Path, mlflow_server: str) -> None:
    git_registry.register("iris", package.from_directory(saved_model, source="runs:/abc/model"))
    git_registry.promote("iris", 1, "Production")

    status, body = _get(f"{mlflow_server}/api/2.0/mlflow/registered-models/search")
    assert status == 200
    assert [m["name"] for m in body["registered_models"]] == ["iris"]

    status, body = _get(f"{mlflow_server}/api/2.0/mlflow/model-versions/get?name=iris&version=1")
    assert status == 200
    mv = body["model_version"]
    assert (mv["version"], mv["current_stage"], mv["source"]) == ("1", "Production", "runs:/abc/model")

    status, body = _get(f"{mlflow_server}/api/2.0/mlflow/model-versions/get?name=iris&version=7")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
