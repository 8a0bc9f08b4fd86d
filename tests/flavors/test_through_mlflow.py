"""A model whose flavor gitreg does not implement (here an MLflow ``PythonModel``,
loader ``mlflow.pyfunc.model``) loads through ``mlflow.pyfunc`` when mlflow is
installed, only after gitreg has verified every artifact; without mlflow the
error names the extra to install."""

from __future__ import annotations

import importlib.abc
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import gitreg.pyfunc
from gitreg.errors import IntegrityError, InvalidInputError, MissingExtraError
from gitreg.registry import Registry
from gitreg.testing import run_cli

mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")


def _mlflow_model(directory: Path) -> Path:
    """An MLflow-saved PythonModel with a params schema: answers each row's x doubled, plus the params."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    class Doubler(mlflow_pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return [f"{2 * x} {json.dumps(params, sort_keys=True)}" for x in model_input["x"]]

    signature = ModelSignature(inputs=Schema([ColSpec("double", "x")]), params=ParamSchema([ParamSpec("k", "long", 1)]))
    mlflow_pyfunc.save_model(directory, python_model=Doubler(), signature=signature, pip_requirements=["mlflow"])
    return directory


@pytest.fixture
def registered(registry: Registry, tmp_path: Path) -> Registry:
    out = run_cli("register", "doubler", str(_mlflow_model(tmp_path / "m")), "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    return registry


def test_an_mlflow_python_model_loads_and_predicts_through_mlflow(registered: Registry) -> None:
    model = gitreg.pyfunc.load_model("models:/doubler/1")
    assert model.predict(pd.DataFrame({"x": [1.0, 2.5]})) == ['2.0 {"k": 1}', '5.0 {"k": 1}']
    assert model.predict(pd.DataFrame({"x": [1]}), params={"k": 7}) == ['2.0 {"k": 7}']
    with pytest.raises(InvalidInputError, match="'k' expects a long"):
        model.predict(pd.DataFrame({"x": [1.0]}), params={"k": "seven"})


def test_a_tampered_artifact_is_refused_before_mlflow_unpickles_it(registered: Registry, tmp_path: Path) -> None:
    model = gitreg.pyfunc.load_model("models:/doubler/1")
    marker = tmp_path / "pwned"
    Path(model.metadata.path, "python_model.pkl").write_bytes(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
    with pytest.raises(IntegrityError, match=r"python_model\.pkl"):
        gitreg.pyfunc.load_model("models:/doubler/1")
    assert not marker.exists()


def test_an_mlflow_model_is_refused_when_pickles_are_refused(registered: Registry) -> None:
    with pytest.raises(InvalidInputError, match="refuses pickles"):
        gitreg.pyfunc.load_model("models:/doubler/1", allow_pickle=False)


def test_a_model_naming_a_file_outside_its_artifacts_is_refused_before_mlflow_runs(
    registry: Registry, tmp_path: Path
) -> None:
    source = _mlflow_model(tmp_path / "m")
    mlmodel = (source / "MLmodel").read_text()
    (source / "MLmodel").write_text(mlmodel.replace("python_model: python_model.pkl", "python_model: ../../x.pkl"))
    assert run_cli("register", "escape", str(source), "-r", str(registry.path)).returncode == 0
    with pytest.raises(IntegrityError, match="not one of the version's artifacts"):
        gitreg.pyfunc.load_model("models:/escape/1")


class WithoutMLflow(importlib.abc.MetaPathFinder):
    """What an install without the extra sees: no module named mlflow."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname.partition(".")[0] == "mlflow":
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def test_without_mlflow_the_error_names_the_extra_to_install(
    registered: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith(("mlflow.", "gitreg.mlflow_plugin"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [WithoutMLflow(), *sys.meta_path])
    with pytest.raises(MissingExtraError, match=r"pip install 'gitreg-registry\[mlflow\]'") as caught:
        gitreg.pyfunc.load_model("models:/doubler/1")
    assert "mlflow.pyfunc.model" in str(caught.value)
