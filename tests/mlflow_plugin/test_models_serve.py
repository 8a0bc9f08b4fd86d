"""``mlflow models serve -m models:/LogisticRegression/1`` with only ``MLFLOW_REGISTRY_URI``
pointing at a git registry: MLflow's own scoring server loads the version from git (through
gitreg's artifact repository) and answers MLflow's modern requests as gitreg does."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gitreg.pyfunc
from gitreg.registry import Registry

MODEL = "LogisticRegression"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _register_tutorial_model() -> None:
    """The tutorial's ``train.py``: MLflow logs the fitted model and registers it on git."""
    import mlflow
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    X = np.array([-2, -1, 0, 1, 2, 1]).reshape(-1, 1)
    y = np.array([0, 0, 1, 1, 1, 0])
    with mlflow.start_run():
        lr = LogisticRegression().fit(X, y)
        mlflow.sklearn.log_model(lr, name="model", registered_model_name=MODEL, pip_requirements=["scikit-learn"])


def _wait_for_ping(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"mlflow models serve did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


def _stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Ctrl+C for the server's process group (MLflow's CLI runs uvicorn as its child), as a user
    stops it, and wait until uvicorn says it finished; SIGKILL only if it hangs."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"mlflow models serve ignored Ctrl+C:\n{log.read_text()[-3000:]}")


@dataclass
class Served:
    """A running ``mlflow models serve``: its URL, process and log."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path


@pytest.fixture
def mlflow_models_serve(mlflow_on_git: Registry, tmp_path: Path) -> Iterator[Served]:
    """``mlflow models serve`` of version 1 on a free port, started after the registration."""
    _register_tutorial_model()
    port = _free_port()
    # MLflow execs ``uvicorn`` by name: the venv's bin must be on PATH, as in an activated venv.
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    log_path = tmp_path / "serve.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed below, after the process)
    proc = subprocess.Popen(
        [str(bin_dir / "mlflow"), "models", "serve", "-m", f"models:/{MODEL}/1",
         "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip
    served = Served(f"http://127.0.0.1:{port}", proc, log_path)
    try:
        _wait_for_ping(served.url, proc, log_path)
        yield served
    finally:
        if proc.poll() is None:
            _stop(proc, log_path)
        log.close()


@pytest.mark.slow
def test_mlflow_models_serve_answers_modern_requests_from_git(
    mlflow_on_git: Registry, mlflow_models_serve: Served, tmp_path: Path
) -> None:
    X = [[-2], [0], [1], [2], [3]]
    model = gitreg.pyfunc.load_model(f"models:/{MODEL}/1", registry=mlflow_on_git.path)
    expected = np.asarray(model.predict(np.array(X))).tolist()
    assert set(expected) == {0, 1}, "inputs on both sides of the boundary, so a wrong model would show"

    status, body = _post(f"{mlflow_models_serve.url}/invocations", {"dataframe_split": {"columns": ["x"], "data": X}})
    assert (status, body) == (200, {"predictions": expected})
    status, body = _post(f"{mlflow_models_serve.url}/invocations", {"inputs": X})
    assert (status, body) == (200, {"predictions": expected})

    # MLflow downloaded through gitreg's artifact repository: a copy, never the verified cache.
    assert not list((tmp_path / "env" / "cache").rglob("registered_model_meta")), "MLflow wrote into gitreg's cache"
    _stop(mlflow_models_serve.proc, mlflow_models_serve.log)
    assert "Finished server process" in mlflow_models_serve.log.read_text()
