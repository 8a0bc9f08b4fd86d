"""MLflow pointed at a real gitreg registry in tmp_path: a sqlite tracking store beside it and
``MLFLOW_REGISTRY_URI=gitreg:///…``, nothing else. Skipped without MLflow (the ``mlflow`` extra)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow.store.model_registry.abstract_store", reason="needs gitreg's 'mlflow' extra")

from gitreg.registry import Registry

# Headless Chromium for the MLflow UI tests: the same fixtures as the gitreg UI tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))
from browser_support import browser, page  # noqa: F401


@pytest.fixture
def git_registry(tmp_path: Path) -> Registry:
    """A fresh registry with a work tree; not selected for gitreg, only named to MLflow."""
    return Registry.init(tmp_path / "registry")


@pytest.fixture
def mlflow_on_git(git_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """MLflow's registry is ``git_registry``; its tracking store a sqlite file in tmp_path."""
    import mlflow

    monkeypatch.setenv("MLFLOW_REGISTRY_URI", f"gitreg://{git_registry.path}")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.chdir(tmp_path)  # a sqlite store's default experiment keeps artifacts in ./mlruns
    mlflow.end_run()
    yield git_registry
    mlflow.end_run()


@pytest.fixture
def mlflow_model_dir(tmp_path: Path, seed_model: Any) -> Path:
    """The seed model saved by MLflow itself (no requirement inference: it is slow and not the point)."""
    import mlflow.sklearn

    path = tmp_path / "mlflow-model"
    mlflow.sklearn.save_model(seed_model, path, pip_requirements=["scikit-learn"])
    return path
