"""Inference params as MLflow treats them: checked against the signature's
params schema (defaults filled in), passed only to a model whose ``predict``
takes ``params``, and ignored with a warning when the model has no params
schema, in Python and over HTTP alike."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import cloudpickle
import pandas as pd
import pytest

import gitreg.pyfunc
import gitreg.sklearn
from gitreg import testing
from gitreg.errors import InvalidInputError
from gitreg.registry import Registry
from gitreg.signature import ColSpec, ParamSpec, Signature

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the server process unpickles these models

SIGNATURE = Signature(
    (ColSpec("double", "x"),),
    params=(ParamSpec("temperature", "double", 0.5), ParamSpec("stops", "string", ["."], (-1,))),
)


class EchoParams(gitreg.pyfunc.PythonModel):
    """Answers, for each row, the params it was given."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return [json.dumps(params, sort_keys=True)] * len(model_input)


class NoParams(gitreg.pyfunc.PythonModel):
    """A predict without a params argument."""

    def predict(self, context: Any, model_input: Any) -> Any:
        return [1] * len(model_input)


def test_params_reach_the_model_checked_and_with_defaults(registry: Registry) -> None:
    gitreg.pyfunc.log_model("model", python_model=EchoParams(), signature=SIGNATURE, registered_model_name="Echo")
    model = gitreg.pyfunc.load_model("models:/Echo/1")
    got = model.predict(pd.DataFrame({"x": [1.0]}), params={"temperature": 1})
    assert json.loads(got[0]) == {"temperature": 1.0, "stops": ["."]}
    assert json.loads(model.predict(pd.DataFrame({"x": [1.0]}))[0]) == {"temperature": 0.5, "stops": ["."]}


def test_invalid_params_are_refused_before_the_model_runs(registry: Registry) -> None:
    gitreg.pyfunc.log_model("model", python_model=EchoParams(), signature=SIGNATURE, registered_model_name="Echo")
    model = gitreg.pyfunc.load_model("models:/Echo/1")
    with pytest.raises(InvalidInputError, match="'temperature' expects a double"):
        model.predict(pd.DataFrame({"x": [1.0]}), params={"temperature": "hot"})


def test_a_model_whose_predict_takes_no_params_is_called_without_them(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    gitreg.pyfunc.log_model("model", python_model=NoParams(), signature=SIGNATURE, registered_model_name="Plain")
    with caplog.at_level(logging.WARNING, logger="gitreg"):
        assert gitreg.pyfunc.load_model("models:/Plain/1").predict({"x": [1.0]}, params={"temperature": 1}) == [1]
    assert "does not take params" in caplog.text


def test_sklearn_without_a_params_schema_ignores_params_with_a_warning(
    registry: Registry, seed_model: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gitreg.sklearn.log_model(seed_model, "model", "LR", input_example=pd.DataFrame({"x": [1.0]}))
    model = gitreg.pyfunc.load_model("models:/LR/1")
    with caplog.at_level(logging.WARNING, logger="gitreg"):
        got = model.predict(pd.DataFrame({"x": [2.0, -2.0]}), params={"return_std": True})
    assert list(got) == list(seed_model.predict([[2.0], [-2.0]]))
    assert "return_std" in caplog.text and "params schema" in caplog.text


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, testing.ScoringServer]]:
    root = tmp_path_factory.mktemp("params")
    env = testing.isolated_env(root / "env")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value) if value else mp.delenv(key, raising=False)
        registry = Registry.init(root / "registry")
        gitreg.pyfunc.log_model(
            "echo", python_model=EchoParams(), signature=SIGNATURE, registered_model_name="Echo", registry=registry
        )
        gitreg.sklearn.log_model(
            testing.seed_model(), "lr", "LR", input_example=pd.DataFrame({"x": [1.0]}), registry=registry
        )
        registry.close()
    reg = str(root / "registry")
    with (
        testing.ScoringServer("-m", "models:/Echo/1", "-r", reg, env=env, cwd=root) as echo,
        testing.ScoringServer("-m", "models:/LR/1", "-r", reg, env=env, cwd=root) as lr,
    ):
        yield {"echo": echo, "lr": lr}


def test_http_params_are_checked_and_reach_the_model(served: dict[str, testing.ScoringServer]) -> None:
    body = {"dataframe_split": {"columns": ["x"], "data": [[1.0]]}, "params": {"stops": ["!", "?"]}}
    resp = served["echo"].post("/invocations", json.dumps(body))
    assert resp.status == 200, resp.body
    assert json.loads(resp.json()["predictions"][0]) == {"stops": ["!", "?"], "temperature": 0.5}
    bad = served["echo"].post("/invocations", json.dumps({**body, "params": {"temperature": "hot"}}))
    assert bad.status == 400 and "temperature" in bad.json()["message"]


def test_http_params_for_a_model_without_a_params_schema_are_ignored(
    served: dict[str, testing.ScoringServer],
) -> None:
    body = {"dataframe_split": {"columns": ["x"], "data": [[2.0], [-2.0]]}, "params": {"return_std": True}}
    resp = served["lr"].post("/invocations", json.dumps(body))
    assert resp.status == 200, resp.body
    assert resp.json()["predictions"] == [1, 0]
