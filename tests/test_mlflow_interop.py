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
