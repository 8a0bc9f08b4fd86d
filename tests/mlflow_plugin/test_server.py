"""A real ``mlflow server --registry-store-uri gitreg:///…`` on 127.0.0.1 answers MLflow's REST API from git."""

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
from pathlib import Path
from typing import Any

import pytest

from gitreg import package
from gitreg.registry import Registry


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def mlflow_server(git_registry: Registry, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 (closed below, after the process)
    proc = subprocess.Popen(
        [str(mlflow_cli), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
         "--registry-store-uri", f"gitreg://{git_registry.path}"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "MLFLOW_TRACKING_URI": ""},
        start_new_session=True,  # its job runner's workers are its children: stopped with it, as a group
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mlflow server did not start:\n{(tmp_path / 'server.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


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
