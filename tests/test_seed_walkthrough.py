"""The seed tutorial's scripts (example_registry/) run unchanged in fresh processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from gitreg.testing import run_cli

EXAMPLE = Path(__file__).resolve().parent.parent / "example_registry"


def run(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, script], cwd=cwd, capture_output=True, text=True, env={**os.environ})


def test_train_register_promote_and_load_as_in_the_tutorial(tmp_path: Path, monkeypatch) -> None:
    work = tmp_path / "example"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("registry", "gitreg-runs"))
    assert run_cli("init", str(work / "registry")).returncode == 0
    monkeypatch.setenv("GITREG_REGISTRY", str(work / "registry"))

    first = run("train.py", work)
    assert first.returncode == 0, first.stderr
    assert "Successfully registered model 'LogisticRegression'." in first.stderr
    second = run("train.py", work)
    assert (
        "Registered model 'LogisticRegression' already exists. Creating a new version of this model..." in second.stderr
    )
    assert "Created version '2' of model 'LogisticRegression'." in second.stderr
    assert "Score: 0.666" in second.stdout and "Model saved in run " in second.stdout

    other = run("register_other_ways.py", work)
    assert other.returncode == 0, other.stderr
    assert "LogisticRegressionClient version 1" in other.stdout

    assert run_cli("promote", "LogisticRegression", "2", "Production").returncode == 0
    loaded = run("load_registered_model.py", work)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.splitlines()[0] == "[1 1 1]"
    assert "Production holds version 2" in loaded.stdout
