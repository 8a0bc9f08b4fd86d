"""MLflow pointed at a real gitreg registry in tmp_path: a sqlite tracking store beside it and
``MLFLOW_REGISTRY_URI=gitreg:///…``, nothing else. Skipped without MLflow (the ``mlflow`` extra)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow.store.model_registry.abstract_store", reason="needs gitreg's 'mlflow' extra")

from gitreg import testing
from gitreg.registry import Registry

# Headless Chromium for the MLflow UI tests: the same fixtures as the gitreg UI tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))
from browser_support import browser, page  # noqa: F401


@pytest.fixture
def git_registry(tmp_path: Path) -> Registry:
    """A fresh registry with a work tree; not selected for gitreg, only named to MLflow."""
    return Registry.init(tmp_path / "registry")


@pytest.fixture
def mlflow_on_git(git_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
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


@pytest.fixture
def mlflow_server(git_registry: Registry, tmp_path: Path) -> Iterator[str]:
    """A real ``mlflow server`` on a free port of 127.0.0.1 (its base URL), its registry store
    ``git_registry`` and its tracking store a sqlite file in tmp_path. Stopped with its whole
    process group: uvicorn runs as its child. MLflow's job runner is off: no test here needs it."""
    port = testing.free_port()
    log_path = tmp_path / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed below, after the process)
    env = {**os.environ, "MLFLOW_TRACKING_URI": "", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("mlflow")), "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
         "--registry-store-uri", f"gitreg://{git_registry.path}"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc, log_path)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _wait_until_up(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``/health`` answers; fails the test with the end of the server's log if it exits or
    takes over two minutes (its first start migrates the sqlite store)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
