"""Signatures: inferred from examples, stored in MLflow's vocabulary, enforced on input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gitreg.errors import InvalidInputError
from gitreg.signature import ColSpec, Signature, TensorSpec, enforce, infer_signature


def test_inferred_from_a_dataframe_as_named_typed_columns() -> None:
    sig = infer_signature(pd.DataFrame({"x": [1.0], "n": [1], "s": ["a"], "b": [True]}))
    assert sig.inputs == (ColSpec("double", "x"), ColSpec("long", "n"), ColSpec("string", "s"), ColSpec("boolean", "b"))


def test_inferred_from_an_array_as_a_tensor_with_a_free_batch_dimension() -> None:
    assert infer_signature(np.zeros((2, 3), dtype="float32")).inputs == TensorSpec("float32", (-1, 3))


def test_round_trips_through_gitreg_and_mlflow_forms() -> None:
    sig = infer_signature(pd.DataFrame({"x": [1.0]}), np.array([1]))
    assert Signature.from_dict(sig.to_dict()) == sig
    assert Signature.from_dict(sig.to_mlflow()) == sig


def test_enforce_reorders_drops_extras_and_converts_ints_to_floats() -> None:
    sig = Signature((ColSpec("double", "a"), ColSpec("long", "b")))
    out = enforce(sig, pd.DataFrame({"b": [1.0, 2.0], "extra": [0, 0], "a": [1, 2]}))
    assert list(out.columns) == ["a", "b"]
    assert out["a"].dtype == np.float64 and out["b"].dtype == np.int64


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"a": [1.0]}), "missing column"),
        (pd.DataFrame({"a": [1.0], "b": [1.5]}), "not a whole number"),
        (pd.DataFrame({"a": ["x"], "b": [1]}), "expects double"),
    ],
)
def test_enforce_refuses_what_cannot_be_converted(frame: pd.DataFrame, message: str) -> None:
    sig = Signature((ColSpec("double", "a"), ColSpec("long", "b")))
    with pytest.raises(InvalidInputError, match=message):
        enforce(sig, frame)


def test_rows_without_names_take_the_signature_columns_in_order() -> None:
    sig = Signature((ColSpec("double", "a"), ColSpec("double", "b")))
    assert list(enforce(sig, [[1, 2]]).columns) == ["a", "b"]
    with pytest.raises(InvalidInputError, match="expects 2"):
        enforce(sig, [[1, 2, 3]])


def test_tensor_shapes_are_checked() -> None:
    sig = Signature(TensorSpec("float64", (-1, 2)))
    assert enforce(sig, [[1, 2]]).dtype == np.float64
    with pytest.raises(InvalidInputError, match="shape"):
        enforce(sig, [[1, 2, 3]])
