"""MLflow model directories register unchanged, and versions gitreg writes load in MLflow."""

from __future__ import annotations

import importlib.util
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from gitreg.registry import Registry
from gitreg.testing import run_cli

# What MLflow 2.x/3.x writes for mlflow.sklearn.log_model(..., signature=..., input_example=df).
MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.0
mlflow_version: 2.16.0
model_size_bytes: 719
model_uuid: 5a0c1f0e8e1a4c38b9b8f4a0f0b5c6d7
run_id: 0123456789abcdef0123456789abcdef
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  serving_input_path: serving_input_example.json
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
utc_time_created: '2024-09-01 10:00:00.000000'
"""


def _mlflow_dir(root: Path, model: Any) -> Path:
    root.mkdir()
    (root / "MLmodel").write_text(MLMODEL)
    with open(root / "model.pkl", "wb") as fh:
        pickle.dump(model, fh)
    (root / "input_example.json").write_text(json.dumps({"columns": ["x"], "data": [[1.0], [-1.0]]}))
    (root / "serving_input_example.json").write_text(
        json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1.0]]}})
    )
    (root / "requirements.txt").write_text("mlflow==2.16.0\nscikit-learn==1.5.0\n")
    (root / "python_env.yaml").write_text(
        "python: 3.11.7\nbuild_dependencies: [pip]\ndependencies: [-r requirements.txt]\n"
    )
    (root / "conda.yaml").write_text("name: mlflow-env\ndependencies: [python=3.11.7]\n")
    return root


def test_register_mlflow_directory_keeps_signature_input_example_and_run_id(
    registry: Registry, tmp_path: Path, seed_model: Any
) -> None:
    source = _mlflow_dir(tmp_path / "mlflow-model", seed_model)
    out = run_cli("register", "iris", str(source), "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    ref = registry.version_ref("iris", 1)
    m = ref.manifest
    assert m.flavor == "sklearn"
    assert m.signature is not None and m.signature.to_dict() == {
        "inputs": [{"type": "double", "name": "x"}],
        "outputs": [{"type": "long"}],
    }
    assert m.input_example == "input_example.json"
    assert m.provenance.run_id == "0123456789abcdef0123456789abcdef"
    paths = {a.path for a in m.artifacts}
    assert {"MLmodel", "model.pkl", "input_example.json", "serving_input_example.json", "conda.yaml"} <= paths
    stored = registry.store.read_blob(f"{ref.tree}:MLmodel")
    assert stored == (source / "MLmodel").read_bytes()  # MLflow's own file travels byte for byte


def test_registered_mlflow_directory_loads_and_predicts_with_gitreg(
    registry: Registry, tmp_path: Path, seed_model: Any
) -> None:
    import pandas as pd

    import gitreg.pyfunc

    source = _mlflow_dir(tmp_path / "mlflow-model", seed_model)
    assert run_cli("register", "iris", str(source), "-r", str(registry.path)).returncode == 0
    model = gitreg.pyfunc.load_model("models:/iris/1")
    got = model.predict(pd.DataFrame({"x": [2.0, -2.0]}))
    assert list(got) == list(seed_model.predict([[2.0], [-2.0]]))


def test_mlflow_directory_with_an_unknown_flavor_is_refused_and_nothing_changes(
    registry: Registry, tmp_path: Path
) -> None:
    source = tmp_path / "tf-model"
    source.mkdir()
    (source / "MLmodel").write_text("flavors:\n  tensorflow:\n    saved_model_dir: tfmodel\n")
    head = registry.store.ref("refs/heads/main")
    out = run_cli("register", "tf", str(source), "-r", str(registry.path))
    assert out.returncode == 1 and "tensorflow" in out.stderr and "Traceback" not in out.stderr
    assert registry.store.ref("refs/heads/main") == head
    assert registry.store.list_refs("refs/tags/") == []


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="MLflow is not installed")
def test_gitreg_sklearn_version_loads_with_mlflow_pyfunc(
    registry: Registry, saved_model: Path, seed_model: Any
) -> None:
    import mlflow.pyfunc
    import pandas as pd

    out = run_cli("register", "seed", str(saved_model), "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    checked_out = registry.path / "models" / "seed"  # the registry's work tree holds the latest version
    assert (checked_out / "MLmodel").is_file()
    model = mlflow.pyfunc.load_model(str(checked_out))
    got = model.predict(pd.DataFrame({"x": [2.0, -2.0, 0.5]}))
    assert list(got) == list(seed_model.predict([[2.0], [-2.0], [0.5]]))


# -- what MLflow 3 saves, read without loss; what gitreg saves, read by MLflow ---------------

needs_mlflow = pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="MLflow is not installed")


def _mlflow_echo() -> Any:
    """An ``mlflow.pyfunc.PythonModel`` answering, per row, the params it was given
    (defined on first use, so this module does not import mlflow when it is absent)."""
    import mlflow.pyfunc

    class MLflowEcho(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return [json.dumps(params, sort_keys=True, default=str)] * len(model_input)

    return MLflowEcho()


def _mlflow_signature() -> Any:
    """Every kind of type MLflow 3 offers, optional columns, and a params schema."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, Array, ColSpec, Map, Object, ParamSchema, ParamSpec, Property, Schema

    inputs = Schema(
        [
            ColSpec("double", "a"),
            ColSpec(Array("string"), "b"),
            ColSpec(Object([Property("p", "long"), Property("q", Array("double"), required=False)]), "c"),
            ColSpec(Map("double"), "d"),
            ColSpec(AnyType(), "e", required=False),
            ColSpec("string", "f", required=False),
        ]
    )
    params = ParamSchema(
        [
            ParamSpec("temperature", "double", 0.5),
            ParamSpec("stops", "string", ["."], (-1,)),
            ParamSpec("when", "datetime", "2024-01-02T03:04:05"),
            ParamSpec("cfg", Object([Property("k", "string")]), {"k": "v"}),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=Schema([ColSpec("string")]), params=params)


class _GitregEcho(__import__("gitreg.pyfunc").pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return [json.dumps(params, sort_keys=True, default=str)] * len(model_input)


def _signature_strings(directory: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((directory / "MLmodel").read_text())["signature"]


@needs_mlflow
def test_mlflow_signature_with_every_type_registers_and_writes_back_identically(
    registry: Registry, tmp_path: Path
) -> None:
    import mlflow.pyfunc

    import gitreg.pyfunc
    from gitreg.signature import Signature

    mlflow.pyfunc.save_model(
        tmp_path / "m", python_model=_mlflow_echo(), signature=_mlflow_signature(), pip_requirements=["mlflow"]
    )
    written = _signature_strings(tmp_path / "m")
    assert run_cli("register", "rich", str(tmp_path / "m"), "-r", str(registry.path)).returncode == 0
    stored = registry.version_ref("rich", 1).manifest.signature
    assert stored == Signature.from_dict(written)
    gitreg.pyfunc.save_model(tmp_path / "g", _GitregEcho(), signature=stored)
    assert _signature_strings(tmp_path / "g") == written  # the JSON strings, byte for byte
    assert mlflow.models.Model.load(str(tmp_path / "g")).signature == _mlflow_signature()


@needs_mlflow
def test_several_named_tensors_saved_by_mlflow_are_all_kept(registry: Registry, tmp_path: Path) -> None:
    import mlflow.pyfunc
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types.schema import Schema, TensorSpec

    from gitreg.signature import TensorSchema

    sig = ModelSignature(
        inputs=Schema([TensorSpec(np.dtype("float32"), (-1, 3), "a"), TensorSpec(np.dtype("int64"), (-1,), "b")])
    )
    mlflow.pyfunc.save_model(tmp_path / "m", python_model=_mlflow_echo(), signature=sig, pip_requirements=["mlflow"])
    assert run_cli("register", "tensors", str(tmp_path / "m"), "-r", str(registry.path)).returncode == 0
    stored = registry.version_ref("tensors", 1).manifest.signature
    assert stored is not None and isinstance(stored.inputs, TensorSchema)
    assert [(t.name, t.dtype, t.shape) for t in stored.inputs] == [("a", "float32", (-1, 3)), ("b", "int64", (-1,))]
    assert stored.to_mlflow()["inputs"] == _signature_strings(tmp_path / "m")["inputs"]


@needs_mlflow
def test_a_dataframe_example_gitreg_saves_comes_back_as_a_dataframe_in_mlflow(tmp_path: Path, seed_model: Any) -> None:
    import mlflow.models
    import pandas as pd

    import gitreg.sklearn

    example = pd.DataFrame({"x": [1.0, -1.0]})
    gitreg.sklearn.save_model(seed_model, tmp_path / "g", input_example=example)
    loaded = mlflow.models.Model.load(str(tmp_path / "g")).load_input_example(str(tmp_path / "g"))
    assert isinstance(loaded, pd.DataFrame)
    pd.testing.assert_frame_equal(loaded, example)
    served = json.loads((tmp_path / "g" / "serving_input_example.json").read_text())
    assert served == {"dataframe_split": {"columns": ["x"], "data": [[1.0], [-1.0]]}}


@needs_mlflow
def test_an_array_example_gitreg_saves_comes_back_as_an_array_in_mlflow(tmp_path: Path, seed_model: Any) -> None:
    import mlflow.models
    import numpy as np

    import gitreg.sklearn

    gitreg.sklearn.save_model(seed_model, tmp_path / "g", input_example=np.array([[1.0], [-1.0]]))
    loaded = mlflow.models.Model.load(str(tmp_path / "g")).load_input_example(str(tmp_path / "g"))
    assert isinstance(loaded, np.ndarray) and loaded.tolist() == [[1.0], [-1.0]]


@needs_mlflow
@pytest.mark.parametrize("kind", ["dataframe", "ndarray"])
def test_examples_mlflow_saves_read_back_in_gitreg(tmp_path: Path, seed_model: Any, kind: str) -> None:
    import mlflow.sklearn
    import numpy as np
    import pandas as pd

    from gitreg.flavors.mlmodel import MLModel

    example: Any = pd.DataFrame({"x": [1.0, -1.0]}) if kind == "dataframe" else np.array([[1.0], [-1.0]])
    mlflow.sklearn.save_model(seed_model, tmp_path / "m", input_example=example, pip_requirements=["mlflow"])
    loaded = MLModel.read(tmp_path / "m").load_input_example(tmp_path / "m")
    if kind == "dataframe":
        pd.testing.assert_frame_equal(loaded, example)
    else:
        assert isinstance(loaded, np.ndarray) and loaded.tolist() == example.tolist()


@needs_mlflow
def test_mlflow_loads_a_gitreg_python_model_and_passes_it_params(tmp_path: Path) -> None:
    import mlflow.pyfunc
    import pandas as pd

    import gitreg.pyfunc
    from gitreg.signature import Signature

    sig = Signature.from_dict(_mlflow_signature().to_dict())
    gitreg.pyfunc.save_model(tmp_path / "g", _GitregEcho(), signature=sig)
    model = mlflow.pyfunc.load_model(str(tmp_path / "g"))
    assert isinstance(model.unwrap_python_model(), _GitregEcho)
    frame = pd.DataFrame({"a": [1.0], "b": [["x"]], "c": [{"p": 1}], "d": [{"k": 1.0}]})
    got = json.loads(model.predict(frame, params={"temperature": 0.9})[0])
    assert got["temperature"] == 0.9 and got["stops"] == ["."] and got["cfg"] == {"k": "v"}


@needs_mlflow
def test_mlflow_3_default_sklearn_model_in_skops_loads_with_gitreg(
    registry: Registry, tmp_path: Path, seed_model: Any
) -> None:
    import mlflow.sklearn
    import pandas as pd

    import gitreg.pyfunc

    mlflow.sklearn.save_model(seed_model, tmp_path / "m", pip_requirements=["scikit-learn"])
    assert (tmp_path / "m" / "model.skops").is_file()  # MLflow 3's default: no pickle
    assert run_cli("register", "sk", str(tmp_path / "m"), "-r", str(registry.path)).returncode == 0
    model = gitreg.pyfunc.load_model("models:/sk/1", allow_pickle=False)
    assert list(model.predict(pd.DataFrame({"x": [2.0, -2.0]}))) == list(seed_model.predict([[2.0], [-2.0]]))
