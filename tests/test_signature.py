"""Signatures: inferred from examples, stored in MLflow's vocabulary, enforced on input;
the one-conversion fast path agrees with the column-by-column path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitreg.errors import InvalidInputError
from gitreg.signature import (
    _NUMPY_OF,
    ColSpec,
    Rows,
    Signature,
    TensorSpec,
    _convert,
    enforce,
    enforce_columns,
    infer_signature,
    rows_as_array,
)


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


NUMERIC = ["double", "float", "long", "integer"]


def column_by_column(frame: pd.DataFrame, cols: list[ColSpec]) -> pd.DataFrame:
    return pd.DataFrame({c.name: _convert(frame[c.name], c.type, c.name) for c in cols}, index=frame.index)


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(NUMERIC),
    dtype=st.sampled_from(["int64", "int32", "uint8", "bool", "float64", "float32"]),
    values=st.lists(st.integers(-1000, 1000), min_size=1, max_size=20),
    width=st.integers(1, 3),
)
def test_uniform_numeric_frames_convert_as_column_by_column(kind: str, dtype: str, values: list, width: int) -> None:
    names = [f"c{i}" for i in range(width)]
    frame = pd.DataFrame({n: np.array(values).astype(dtype) for n in names})
    cols = [ColSpec(kind, n) for n in names]
    if kind in ("long", "integer") and dtype.startswith("float"):
        expected = column_by_column(frame, cols)  # floats go the general (whole-number checked) path
    else:
        expected = pd.DataFrame({n: frame[n].astype(_NUMPY_OF[kind]) for n in names})
    got = enforce_columns(frame, cols)
    pd.testing.assert_frame_equal(got, expected)


def test_fast_path_keeps_the_index_and_reorders_nothing_it_should_not() -> None:
    frame = pd.DataFrame({"b": [1, 2], "a": [3, 4]}, index=[10, 11])
    got = enforce_columns(frame, [ColSpec("double", "a"), ColSpec("double", "b")])
    assert got.columns.tolist() == ["a", "b"]
    assert got.index.tolist() == [10, 11]
    assert got["a"].tolist() == [3.0, 4.0]


def test_fractional_values_for_an_integer_column_are_still_refused() -> None:
    with pytest.raises(InvalidInputError, match="not a whole number"):
        enforce_columns(pd.DataFrame({"x": [1.5]}), [ColSpec("long", "x")])


# JSON scalars as a scoring request carries them, including the awkward ones:
# bools, integers past int64, NaN, nulls and strings.
json_scalars = st.one_of(
    st.integers(-(2**70), 2**70),
    st.integers(-5, 5),
    st.floats(allow_infinity=False, width=64),
    st.booleans(),
    st.none(),
    st.sampled_from(["1", "a", ""]),
)


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(NUMERIC),
    width=st.integers(1, 3),
    data=st.data(),
)
def test_json_rows_become_the_array_the_general_path_would_give(kind: str, width: int, data: st.DataObject) -> None:
    """rows_as_array is only a shortcut: whenever it answers, the answer is
    what enforcing the DataFrame gives (as an array); when it cannot, it says
    None and the general path (refusals included) decides."""
    names = data.draw(st.permutations([f"c{i}" for i in range(width)] + ["extra"]))
    rows = data.draw(st.lists(st.lists(json_scalars, min_size=len(names), max_size=len(names)), max_size=4))
    cols = tuple(ColSpec(kind, f"c{i}") for i in range(width))
    table = Rows(tuple(names), rows)
    fast = rows_as_array(table, cols)
    if fast is None:
        return
    expected = enforce_columns(table.to_frame(), cols).to_numpy()
    assert fast.dtype == expected.dtype
    np.testing.assert_array_equal(fast, expected)


def test_json_rows_of_numbers_take_the_one_conversion_path() -> None:
    table = Rows(("b", "a", "note"), [[1, 2.5, 3], [True, 0, 4]])
    got = rows_as_array(table, (ColSpec("double", "a"), ColSpec("double", "b")))
    assert got.tolist() == [[2.5, 1.0], [0.0, 1.0]]
    assert got.dtype == np.float64


@pytest.mark.parametrize(
    ("columns", "rows", "cols"),
    [
        (("x",), [["1"]], (ColSpec("double", "x"),)),  # a string: parsing is the general path's job
        (("x",), [[None]], (ColSpec("double", "x"),)),  # a null
        (("x",), [[1.5]], (ColSpec("long", "x"),)),  # a fraction for an integer column: refused there
        (("y",), [[1.0]], (ColSpec("double", "x"),)),  # a missing column: refused there, by name
        (("x",), [], (ColSpec("double", "x"),)),  # no rows
        (("x",), [[1.0]], (ColSpec("string", "x"),)),  # not a numeric signature
        (("x", "y"), [[1.0, 2]], (ColSpec("double", "x"), ColSpec("long", "y"))),  # mixed types
        (("x",), [[[1.0]]], (ColSpec("double", "x"),)),  # a list in a cell: the general path refuses it
        (("x", "y"), [[[1.0, 2.0], 3.0]], (ColSpec("double", "x"), ColSpec("double", "y"))),  # ragged cells
    ],
)
def test_json_rows_the_shortcut_leaves_to_the_general_path(columns: tuple, rows: list, cols: tuple) -> None:
    assert rows_as_array(Rows(columns, rows), cols) is None
