"""Input examples are saved as MLflow 3 saves them and read back as the value
they were: a table as a DataFrame, an array as an array."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import gitreg.sklearn
from gitreg.errors import InvalidInputError
from gitreg.flavors.mlmodel import MLModel


def test_a_dataframe_example_is_described_as_mlflow_does_and_reads_back_as_a_dataframe(
    tmp_path: Path, seed_model: Any
) -> None:
    example = pd.DataFrame({"x": [1.0, -1.0]})
    gitreg.sklearn.save_model(seed_model, tmp_path / "m", input_example=example)
    info = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["saved_input_example_info"]
    assert info == {
        "artifact_path": "input_example.json",
        "type": "dataframe",
        "pandas_orient": "split",
        "serving_input_path": "serving_input_example.json",
    }
    assert json.loads((tmp_path / "m" / "input_example.json").read_text()) == {
        "columns": ["x"],
        "data": [[1.0], [-1.0]],
    }
    pd.testing.assert_frame_equal(MLModel.read(tmp_path / "m").load_input_example(tmp_path / "m"), example)


def test_an_array_example_reads_back_as_an_array_with_nan_written_as_null(tmp_path: Path, seed_model: Any) -> None:
    gitreg.sklearn.save_model(seed_model, tmp_path / "m", input_example=np.array([[1.0], [np.nan]]))
    raw = (tmp_path / "m" / "input_example.json").read_text()
    assert "NaN" not in raw and json.loads(raw) == [[1.0], [None]]
    loaded = MLModel.read(tmp_path / "m").load_input_example(tmp_path / "m")
    assert isinstance(loaded, np.ndarray) and loaded.shape == (2, 1)


def test_an_example_saved_with_params_reads_back_its_data(tmp_path: Path) -> None:
    (tmp_path / "MLmodel").write_text(
        "flavors: {python_function: {loader_module: m}}\n"
        "saved_input_example_info: {artifact_path: input_example.json, type: dataframe, params: 'true'}\n"
    )
    body = {"inputs": {"columns": ["a"], "data": [[1]]}, "params": {"k": 1}}
    (tmp_path / "input_example.json").write_text(json.dumps(body))
    loaded = MLModel.read(tmp_path).load_input_example(tmp_path)
    pd.testing.assert_frame_equal(loaded, pd.DataFrame({"a": [1]}))


@pytest.mark.parametrize("path", ["../outside.json", "/etc/passwd", "missing.json"])
def test_an_example_outside_the_model_or_missing_is_refused(tmp_path: Path, path: str) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "outside.json").write_text("[1]")
    (tmp_path / "m" / "MLmodel").write_text(
        f"flavors: {{python_function: {{loader_module: m}}}}\n"
        f"saved_input_example_info: {{artifact_path: '{path}', type: ndarray}}\n"
    )
    with pytest.raises(InvalidInputError, match="not a file of the model"):
        MLModel.read(tmp_path / "m").load_input_example(tmp_path / "m")
