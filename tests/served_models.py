"""PythonModels the server tests register: each makes one server behaviour observable.

Registered with cloudpickle *by value* (see :func:`register`) so that the
server process can unpickle them without importing the tests.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cloudpickle
import pandas as pd
import pytest

import gitreg.pyfunc
import gitreg.sklearn
from gitreg import testing
from gitreg.registry import Registry

cloudpickle.register_pickle_by_value(sys.modules[__name__])


class Constant(gitreg.pyfunc.PythonModel):
    """Answers ``value`` for every row: tells versions apart."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def predict(self, context: Any, model_input: Any) -> Any:
        return [self.value] * len(model_input)


class Slow(gitreg.pyfunc.PythonModel):
    """Takes ``seconds`` per request and answers the worker's pid; touches ``started`` on entry."""

    def __init__(self, seconds: float, started: str | None = None) -> None:
        self.seconds = seconds
        self.started = started

    def predict(self, context: Any, model_input: Any) -> Any:
        if self.started:
            Path(self.started).touch()
        time.sleep(self.seconds)
        return [os.getpid()] * len(model_input)


class Refusing(gitreg.pyfunc.PythonModel):
    """Raises ValueError like a model rejecting its input."""

    def predict(self, context: Any, model_input: Any) -> Any:
        raise ValueError("x must be positive; secret-internal-state stays short")


class Unencodable(gitreg.pyfunc.PythonModel):
    """Answers something JSON cannot carry: a server-side failure."""

    def predict(self, context: Any, model_input: Any) -> Any:
        return [object()]


class BrokenLoad(gitreg.pyfunc.PythonModel):
    """Fails while loading, like a version with a missing dependency."""

    def load_context(self, context: Any) -> None:
        raise RuntimeError("this version cannot load")

    def predict(self, context: Any, model_input: Any) -> Any:
        return [0] * len(model_input)


class Gated(gitreg.pyfunc.PythonModel):
    """Loads only once the file ``gate`` exists: a slow load, controlled by the test."""

    def __init__(self, gate: str) -> None:
        self.gate = gate

    def load_context(self, context: Any) -> None:
        deadline = time.monotonic() + 60
        while not Path(self.gate).exists() and time.monotonic() < deadline:
            time.sleep(0.01)

    def predict(self, context: Any, model_input: Any) -> Any:
        return [1] * len(model_input)


def register_seed(registry: Registry | Path) -> None:
    """The seed tutorial's LogisticRegression as version 1, with its signature."""
    gitreg.sklearn.log_model(
        testing.seed_model(),
        "model",
        registered_model_name="LogisticRegression",
        input_example=pd.DataFrame({"x": [1.0, -1.0]}),
        registry=registry,
    )


def register(registry: Registry | Path, name: str, model: gitreg.pyfunc.PythonModel) -> int:
    """Register ``model`` as the next version of ``name``; return the version number."""
    path = f"{name}-{uuid.uuid4().hex[:8]}"  # one run may log several models, each at its own path
    info = gitreg.pyfunc.log_model(path, python_model=model, registered_model_name=name, registry=registry)
    assert info.registered_model_version is not None
    return int(info.registered_model_version)


@contextmanager
def seed_server(root: Path, *, max_body: int) -> Iterator[testing.ScoringServer]:
    """A real ``gitreg serve`` of the seed model (version 1) in an isolated
    environment under ``root``, with the given body limit."""
    env = testing.isolated_env(root / "env")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value) if value else mp.delenv(key, raising=False)
        reg = Registry.init(root / "registry")
        register_seed(reg)
        reg.close()
    args = ("-m", "models:/LogisticRegression/1", "-r", str(root / "registry"), "--max-body", str(max_body))
    with testing.ScoringServer(*args, env=env, cwd=root) as srv:
        yield srv
