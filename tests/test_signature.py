"""Signature enforcement: the one-conversion fast path agrees with the column-by-column path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitreg.errors import InvalidInputError
from gitreg.signature import _NUMPY_OF, ColSpec, _convert, enforce_columns

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
