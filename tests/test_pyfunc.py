"""Loading by URI: verified before unpickling, signature enforced, any input shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import gitreg
import gitreg.pyfunc
import gitreg.sklearn
from gitreg.errors import IntegrityError, InvalidInputError, NotFoundError
from gitreg.registry import Registry
from gitreg.signature import Rows


@pytest.fixture
def two_versions(registry: Registry, seed_model: Any) -> Registry:
    gitreg.sklearn.log_model(seed_model, "model", registered_model_name="LR", input_example=pd.DataFrame({"x": [1.0]}))
    gitreg.sklearn.log_model(seed_model, "model", registered_model_name="LR")
    return registry


@pytest.mark.parametrize(
    "uri", ["models:/LR/1", "models:/LR/2", "models:/LR/latest", "models:/LR/Staging", "models:/LR@staging"]
)
def test_every_uri_form_loads_and_predicts_the_seed_answer(two_versions: Registry, uri: str) -> None:
    gitreg.Client().transition_model_version_stage("LR", 1, "Staging")
    model = gitreg.pyfunc.load_model(uri)
    assert model.predict(np.array([[1], [2], [3]])).tolist() == [1, 1, 1]


def test_metadata_names_the_resolved_version(two_versions: Registry) -> None:
    gitreg.Client().transition_model_version_stage("LR", 1, "Production")
    meta = gitreg.pyfunc.load_model("models:/LR/Production").metadata
    assert (meta.name, meta.version, meta.resolved_from, meta.flavor) == ("LR", 1, "Production", "sklearn")
    assert meta.commit and meta.tag == "LR/v1"
    assert meta.signature is not None and meta.signature.column_names == ["x"]


@pytest.mark.parametrize(
    "data",
    [
        pd.DataFrame({"x": [1, -1]}),
        np.array([[1], [-1]]),
        [[1], [-1]],
        {"x": [1, -1]},
        pd.DataFrame({"y": [0, 0], "x": [1, -1]}),
    ],
)
def test_predict_accepts_frames_arrays_lists_and_dicts(two_versions: Registry, data: Any) -> None:
    assert gitreg.pyfunc.load_model("models:/LR/1").predict(data).tolist() == [1, 0]


@pytest.mark.parametrize(
    "rows",
    [
        Rows(("x",), [[1], [-1]]),  # the seed's curl: integers for a double column
        Rows(("y", "x"), [[0, 1.0], [0, -1.0]]),  # another order, an extra column
        Rows(("x",), [["1"], ["-1"]]),  # strings the general path converts
    ],
)
def test_json_rows_score_as_the_same_table_would(two_versions: Registry, rows: Rows) -> None:
    model = gitreg.pyfunc.load_model("models:/LR/1")
    assert model.predict(rows).tolist() == model.predict(rows.to_frame()).tolist() == [1, 0]


def test_json_rows_reach_a_model_fitted_on_a_frame_as_a_frame(registry: Registry) -> None:
    """An estimator that knows its column names gets a DataFrame with them
    (sklearn warns on a bare array), in the signature's order."""
    import warnings

    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
    est = LinearRegression().fit(frame, [1.0, 2.0, 3.0])
    gitreg.sklearn.log_model(est, "model", registered_model_name="Lin", input_example=frame)
    model = gitreg.pyfunc.load_model("models:/Lin/1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.predict(Rows(("b", "a"), [[0, 1], [1, 2]])).round(6).tolist() == [1.0, 2.0]


def test_json_rows_reach_a_python_model_as_a_frame(registry: Registry) -> None:
    class Columns(gitreg.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return [f"{type(model_input).__name__}:{','.join(model_input.columns)}"]

    gitreg.pyfunc.log_model(
        "model", python_model=Columns(), registered_model_name="Cols", input_example=pd.DataFrame({"x": [1.0]})
    )
    model = gitreg.pyfunc.load_model("models:/Cols/latest")
    assert model.predict(Rows(("x", "extra"), [[1, 2]])) == ["DataFrame:x"]


def test_signature_refuses_missing_columns_and_unconvertible_values(two_versions: Registry) -> None:
    model = gitreg.pyfunc.load_model("models:/LR/1")
    with pytest.raises(InvalidInputError, match="missing column"):
        model.predict(pd.DataFrame({"z": [1.0]}))
    with pytest.raises(InvalidInputError, match=r"'x' expects double"):
        model.predict(pd.DataFrame({"x": ["one"]}))


def test_estimator_feature_names_are_checked_when_there_is_no_signature(registry: Registry) -> None:
    from sklearn.linear_model import LinearRegression

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
    est = LinearRegression().fit(frame, [1.0, 2.0, 3.0])
    gitreg.sklearn.log_model(est, "model", registered_model_name="Lin")
    model = gitreg.pyfunc.load_model("models:/Lin/1")
    assert model.predict(frame[["b", "a"]]).round(6).tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(InvalidInputError, match="missing column"):
        model.predict(pd.DataFrame({"a": [1.0], "wrong": [0.0]}))


def test_unknown_models_versions_and_empty_stages_are_not_found(two_versions: Registry) -> None:
    for uri in ["models:/Nope/1", "models:/LR/9", "models:/LR/Production"]:
        with pytest.raises(NotFoundError):
            gitreg.pyfunc.load_model(uri)


def test_a_tampered_artifact_is_refused_before_unpickling(two_versions: Registry, tmp_path: Path) -> None:
    """The cache copy is checked on every load: a changed model.pkl never runs."""
    model = gitreg.pyfunc.load_model("models:/LR/1")
    marker = tmp_path / "pwned"
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    Path(model.metadata.path, "model.pkl").write_bytes(payload)
    with pytest.raises(IntegrityError, match=r"model\.pkl"):
        gitreg.pyfunc.load_model("models:/LR/1")
    assert not marker.exists()


def test_python_models_with_artifacts_and_context_round_trip(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "offset.txt").write_text("10")

    class AddOffset(gitreg.pyfunc.PythonModel):
        def load_context(self, context: Any) -> None:
            self.offset = int(Path(context.artifacts["offset"]).read_text())

        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input["x"].to_numpy() + self.offset

    gitreg.pyfunc.log_model(
        "model", python_model=AddOffset(), artifacts={"offset": str(tmp_path / "offset.txt")},
        registered_model_name="Adder", input_example=pd.DataFrame({"x": [1]}),
    )  # fmt: skip
    model = gitreg.pyfunc.load_model("models:/Adder/latest")
    assert model.predict(pd.DataFrame({"x": [1, 2]})).tolist() == [11, 12]
    assert model.metadata.flavor == "python_function"


def test_sklearn_load_model_returns_the_estimator(two_versions: Registry) -> None:
    from sklearn.linear_model import LogisticRegression

    assert isinstance(gitreg.sklearn.load_model("models:/LR/2"), LogisticRegression)


def test_a_saved_directory_loads_by_path(saved_model: Path) -> None:
    assert gitreg.pyfunc.load_model(str(saved_model)).predict({"x": [2.0]}).tolist() == [1]


def test_pyfunc_log_model_accepts_the_model_first_too(registry: Registry) -> None:
    class Constant(gitreg.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any) -> Any:
            return [7] * len(model_input)

    info = gitreg.pyfunc.log_model(Constant(), "model", registered_model_name="Const")
    assert info.registered_model_version == 1
    assert gitreg.pyfunc.load_model("models:/Const/1").predict([[0], [0]]) == [7, 7]
