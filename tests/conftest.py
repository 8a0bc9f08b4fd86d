"""Fixtures: every test runs against real git repositories in tmp_path with
an isolated HOME and git configuration, so nothing leaks in from the machine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.gitcli import git

import gitreg
from gitreg import testing
from gitreg.registry import Registry


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    env = testing.isolated_env(tmp_path / "env")
    for k, v in env.items():
        if v:
            monkeypatch.setenv(k, v)
        else:
            monkeypatch.delenv(k, raising=False)
    monkeypatch.chdir(tmp_path)
    testing.reset()
    yield env
    testing.reset()


@pytest.fixture
def env(isolated: dict[str, str]) -> dict[str, str]:
    """The isolated environment, for subprocesses."""
    return {**os.environ}


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """A fresh registry with a work tree, selected with set_registry."""
    reg = Registry.init(tmp_path / "registry")
    gitreg.set_registry(reg.path)
    return reg


@pytest.fixture
def bare_registry(tmp_path: Path) -> Registry:
    return Registry.init(tmp_path / "registry.git", bare=True)


@pytest.fixture
def seed_model() -> Any:
    return testing.seed_model()


@pytest.fixture
def saved_model(tmp_path: Path, seed_model: Any) -> Path:
    """The seed model saved to a directory, with an input example (so a signature)."""
    import pandas as pd

    import gitreg.sklearn

    path = tmp_path / "saved"
    gitreg.sklearn.save_model(seed_model, path, input_example=pd.DataFrame({"x": [1.0, -1.0]}))
    return path


@pytest.fixture
def git_in() -> Any:
    """``git_in(repo, *args)`` -> stdout, for checking what git itself sees (helpers.gitcli.git)."""
    return git
