"""The /invocations wire format: which bodies are read how, which are refused, and how answers look."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitreg.errors import GitregError, InvalidInputError
from gitreg.server.payload import (
    ParsedRequest,
    UnsupportedMediaType,
    _digit_labels,
    dumps_predictions,
    excerpt,
    parse_request,
)
from gitreg.signature import Rows, to_frame

JSON = "application/json"
SPLIT = "application/json; format=pandas-split"
RECORDS = "application/json; format=pandas-records"


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def frame(parsed: ParsedRequest) -> pd.DataFrame:
    """The request's table as the model's general path sees it."""
    return to_frame(parsed.data)


def strict_loads(raw: bytes) -> object:
    """Parse JSON refusing NaN/Infinity tokens, as strict clients (browsers, Go, Java) do."""

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(raw, parse_constant=refuse)


# ----------------------------------------------------------------- legacy forms


def test_legacy_pandas_split_reads_the_seed_body_as_rows_under_named_columns():
    parsed = parse_request(b'{"columns":["x"], "data":[[1], [-1]]}', SPLIT)
    assert isinstance(parsed, ParsedRequest)
    assert parsed.data == Rows(("x",), [[1], [-1]])  # left for the model to convert (one numpy call)
    assert frame(parsed)["x"].tolist() == [1, -1]
    assert parsed.params is None
    assert parsed.legacy is True


@pytest.mark.parametrize(
    "split",
    [
        {"columns": ["x"], "data": [[1], [2]], "index": [7, 8]},  # an index to keep
        {"columns": ["x", "x"], "data": [[1, 2]]},  # a repeated name
        {"data": [[1, 2]]},  # no names
    ],
)
def test_split_bodies_rows_cannot_carry_become_a_dataframe(split: dict) -> None:
    assert isinstance(parse_request(body({"dataframe_split": split}), JSON).data, pd.DataFrame)


def test_legacy_pandas_split_answers_bare_list():
    parsed = parse_request(b'{"columns":["x"], "data":[[1], [-1]]}', SPLIT)
    assert dumps_predictions(np.array([1, 0]), parsed.legacy) == b"[1, 0]"


def test_legacy_pandas_split_keeps_an_index():
    parsed = parse_request(body({"columns": ["x"], "data": [[1], [2]], "index": [7, 8]}), SPLIT)
    assert frame(parsed).index.tolist() == [7, 8]


def test_legacy_pandas_records_reads_a_list_of_objects():
    parsed = parse_request(body([{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]), RECORDS)
    assert parsed.legacy is True
    assert frame(parsed)["x"].tolist() == [1, 2]
    assert frame(parsed)["y"].tolist() == ["a", "b"]


def test_content_type_media_type_and_parameters_are_case_insensitive():
    parsed = parse_request(
        body({"columns": ["x"], "data": [[1]]}), "Application/JSON; Format=Pandas-Split; Charset=UTF-8"
    )
    assert parsed.legacy is True
    assert frame(parsed)["x"].tolist() == [1]


def test_quoted_utf8_charset_is_accepted():
    parsed = parse_request(body({"inputs": [1, 2]}), 'application/json; charset="utf8"')
    assert parsed.data.tolist() == [1, 2]


def test_legacy_split_with_a_list_body_is_refused_naming_the_expected_shape():
    with pytest.raises(InvalidInputError, match=r"format=pandas-split.*columns.*data"):
        parse_request(body([[1], [2]]), SPLIT)


def test_legacy_split_with_unknown_keys_is_refused_naming_them():
    with pytest.raises(InvalidInputError, match="unknown keys 'dataframe_split'"):
        parse_request(body({"dataframe_split": {"columns": ["x"], "data": [[1]]}}), SPLIT)


def test_legacy_split_without_data_is_refused():
    with pytest.raises(InvalidInputError, match="lacks 'data'"):
        parse_request(body({"columns": ["x"]}), SPLIT)


def test_legacy_records_with_an_object_body_is_refused_naming_the_expected_shape():
    with pytest.raises(InvalidInputError, match=r"format=pandas-records.*array of objects"):
        parse_request(body({"columns": ["x"], "data": [[1]]}), RECORDS)


def test_legacy_records_with_non_object_items_is_refused():
    with pytest.raises(InvalidInputError, match="array of objects"):
        parse_request(body([{"x": 1}, 2]), RECORDS)


def test_unknown_json_format_is_an_unsupported_media_type():
    with pytest.raises(UnsupportedMediaType, match="format=pandas-index"):
        parse_request(body({"x": 1}), "application/json; format=pandas-index")


# ----------------------------------------------------------------- modern forms


def test_dataframe_split_reads_a_dataframe_with_modern_answers():
    parsed = parse_request(body({"dataframe_split": {"columns": ["x", "y"], "data": [[1, 2.5], [3, 4.5]]}}), JSON)
    assert parsed.legacy is False
    assert parsed.params is None
    assert frame(parsed).to_dict(orient="list") == {"x": [1, 3], "y": [2.5, 4.5]}
    assert dumps_predictions(np.array([1, 0]), parsed.legacy) == b'{"predictions": [1, 0]}'


def test_dataframe_split_columns_are_optional_as_in_mlflow():
    parsed = parse_request(body({"dataframe_split": {"data": [[1, 2]]}}), JSON)
    assert frame(parsed).shape == (1, 2)


def test_dataframe_split_with_mismatched_columns_is_an_input_error():
    with pytest.raises(InvalidInputError, match="cannot build a DataFrame"):
        parse_request(body({"dataframe_split": {"columns": ["x"], "data": [[1, 2]]}}), JSON)


def test_dataframe_split_with_rows_of_different_lengths_is_refused():
    with pytest.raises(InvalidInputError, match="different lengths"):
        parse_request(body({"dataframe_split": {"columns": ["x", "y"], "data": [[1, 2], [3]]}}), JSON)


def test_dataframe_split_with_rows_mixed_with_scalars_is_refused():
    with pytest.raises(InvalidInputError, match="mixes rows"):
        parse_request(body({"dataframe_split": {"columns": ["x"], "data": [[1], None]}}), JSON)


def test_dataframe_split_must_be_an_object():
    with pytest.raises(InvalidInputError, match=r"'dataframe_split' must be a JSON object.*got a JSON array"):
        parse_request(body({"dataframe_split": [[1]]}), JSON)


def test_dataframe_split_data_must_be_an_array():
    with pytest.raises(InvalidInputError, match="'data' in 'dataframe_split' must be a JSON array"):
        parse_request(body({"dataframe_split": {"columns": ["x"], "data": 5}}), JSON)


def test_dataframe_records_reads_a_dataframe():
    parsed = parse_request(body({"dataframe_records": [{"x": 1}, {"x": 2}]}), JSON)
    assert parsed.legacy is False
    assert frame(parsed)["x"].tolist() == [1, 2]


def test_dataframe_records_must_be_a_list_of_objects():
    with pytest.raises(InvalidInputError, match="'dataframe_records' must be a JSON array of objects"):
        parse_request(body({"dataframe_records": {"x": [1]}}), JSON)


@pytest.mark.parametrize("key", ["instances", "inputs"])
def test_tensor_list_becomes_an_ndarray(key):
    parsed = parse_request(body({key: [[1, 2], [3, 4]]}), JSON)
    assert isinstance(parsed.data, np.ndarray)
    assert frame(parsed).shape == (2, 2)
    assert parsed.data.tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("key", ["instances", "inputs"])
def test_tensor_list_of_objects_becomes_a_dataframe(key):
    parsed = parse_request(body({key: [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}), JSON)
    assert isinstance(parsed.data, pd.DataFrame)
    assert frame(parsed).to_dict(orient="list") == {"a": [1, 3], "b": [2, 4]}


@pytest.mark.parametrize("key", ["instances", "inputs"])
def test_tensor_columnar_object_of_equal_lists_becomes_a_dataframe(key):
    parsed = parse_request(body({key: {"a": [1, 2], "b": ["x", "y"]}}), JSON)
    assert isinstance(parsed.data, pd.DataFrame)
    assert frame(parsed)["b"].tolist() == ["x", "y"]


def test_tensor_object_that_is_not_columnar_is_passed_as_a_dict():
    value = {"a": [1, 2], "b": [3], "c": "text"}
    parsed = parse_request(body({"inputs": value}), JSON)
    assert parsed.data == value


def test_ragged_tensor_is_refused_as_ragged():
    with pytest.raises(InvalidInputError, match="ragged"):
        parse_request(body({"instances": [[1, 2], [3]]}), JSON)


def test_tensor_mixing_objects_and_values_is_refused():
    with pytest.raises(InvalidInputError, match="mixes objects"):
        parse_request(body({"instances": [{"a": 1}, 2]}), JSON)


@pytest.mark.parametrize("scalar", [1, 2.5, "text", True, None])
def test_scalar_tensor_is_refused(scalar):
    with pytest.raises(InvalidInputError, match="'inputs' must be a JSON array or object"):
        parse_request(body({"inputs": scalar}), JSON)


def test_params_are_passed_through():
    parsed = parse_request(body({"inputs": [1.0], "params": {"temperature": 0.5}}), JSON)
    assert parsed.params == {"temperature": 0.5}


def test_params_that_are_not_an_object_are_refused():
    with pytest.raises(InvalidInputError, match="'params' must be a JSON object; got a JSON array"):
        parse_request(body({"inputs": [1.0], "params": [1]}), JSON)


def test_nan_and_infinity_tokens_are_accepted_as_floats():
    parsed = parse_request(b'{"inputs": [NaN, Infinity, -Infinity, 1.0]}', JSON)
    assert np.isnan(parsed.data[0])
    assert parsed.data[1:].tolist() == [np.inf, -np.inf, 1.0]


def test_missing_content_type_is_read_as_json():
    for content_type in (None, ""):
        parsed = parse_request(body({"inputs": [1, 2]}), content_type)
        assert parsed.data.tolist() == [1, 2]
        assert parsed.legacy is False


def test_utf8_byte_order_mark_is_ignored():
    parsed = parse_request("\ufeff".encode() + body({"inputs": [1]}), JSON)
    assert parsed.data.tolist() == [1]


# ----------------------------------------------------------- key refusals


def test_json_object_with_two_input_keys_is_refused_naming_them():
    with pytest.raises(InvalidInputError) as caught:
        parse_request(body({"instances": [1], "inputs": [2]}), JSON)
    message = str(caught.value)
    assert "exactly one" in message
    for key in ("dataframe_split", "dataframe_records", "instances", "inputs"):
        assert key in message
    assert "found several: 'instances', 'inputs'" in message


def test_json_object_without_input_key_is_refused_naming_the_four_keys():
    with pytest.raises(InvalidInputError) as caught:
        parse_request(body({"params": {}}), JSON)
    message = str(caught.value)
    for key in ("dataframe_split", "dataframe_records", "instances", "inputs"):
        assert key in message


def test_json_object_with_only_unknown_keys_is_refused_naming_the_four_keys_and_them():
    with pytest.raises(InvalidInputError, match=r"dataframe_split.*inputs.*found only 'data', 'rows'"):
        parse_request(body({"data": [1], "rows": 2}), JSON)


def test_bare_split_body_without_format_hints_at_the_legacy_form():
    with pytest.raises(InvalidInputError, match="format=pandas-split"):
        parse_request(b'{"columns":["x"], "data":[[1], [-1]]}', JSON)


def test_input_key_with_unknown_extra_keys_is_refused_naming_the_extras():
    with pytest.raises(InvalidInputError, match="unknown keys next to 'inputs': 'extra'"):
        parse_request(body({"inputs": [1], "extra": 1, "params": {}}), JSON)


def test_json_array_without_format_is_refused_with_a_hint():
    with pytest.raises(InvalidInputError, match=r"got a JSON array.*format=pandas-records"):
        parse_request(body([{"x": 1}]), JSON)


@pytest.mark.parametrize("value", [1, "text", None, True])
def test_json_scalar_body_is_refused(value):
    with pytest.raises(InvalidInputError, match="expected a JSON object"):
        parse_request(body(value), JSON)


def test_many_unknown_keys_are_named_only_in_part():
    many = {f"key{i}": i for i in range(10_000)}
    with pytest.raises(InvalidInputError) as caught:
        parse_request(body(many), JSON)
    assert "and 9997 more" in str(caught.value)
    assert len(str(caught.value)) < 400


# ------------------------------------------------------ media type refusals


def test_latin1_charset_is_refused():
    with pytest.raises(UnsupportedMediaType, match="charset latin-1 not supported; send UTF-8"):
        parse_request(body({"inputs": [1]}), "application/json; charset=latin-1")


def test_unsupported_media_type_names_it_and_the_accepted_ones():
    with pytest.raises(UnsupportedMediaType) as caught:
        parse_request(b"<x/>", "application/xml")
    message = str(caught.value)
    assert "application/xml" in message
    assert "application/json" in message
    assert "text/csv" in message


def test_unsupported_media_type_is_an_invalid_input_error():
    assert issubclass(UnsupportedMediaType, InvalidInputError)


# ------------------------------------------------------------ body refusals


def test_non_utf8_body_is_refused():
    with pytest.raises(InvalidInputError, match=r"not valid UTF-8.*byte 11"):
        parse_request(b'{"inputs": \xff[1]}', JSON)


def test_malformed_json_names_line_and_column():
    with pytest.raises(InvalidInputError, match="malformed JSON at line 2 column 10: Expecting value"):
        parse_request(b'{"inputs":\n  [1, 2, ]}', JSON)


def test_integer_longer_than_pythons_digit_limit_is_an_input_error():
    with pytest.raises(InvalidInputError, match="malformed JSON"):
        parse_request(b'{"inputs": [' + b"1" * 9000 + b"]}", JSON)


def test_deeply_nested_json_is_refused_as_too_deep():
    with pytest.raises(InvalidInputError, match="too deeply nested"):
        parse_request(b"[" * 100_000, JSON)


def test_deeply_nested_but_parsable_tensor_is_an_input_error():
    nested = "[" * 200 + "1" + "]" * 200
    with pytest.raises(InvalidInputError):
        parse_request(f'{{"inputs": {nested}}}'.encode(), JSON)


def test_huge_integers_do_not_escape_as_other_errors():
    parsed = parse_request(body({"dataframe_split": {"columns": ["x"], "data": [[10**30], [1]]}}), JSON)
    assert frame(parsed)["x"].tolist() == [10**30, 1]
    parsed = parse_request(body({"inputs": [10**30, 1]}), JSON)
    assert parsed.data.tolist() == [10**30, 1]


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b'{"inputs": [' + b"1, " * 350_000 + b"]", JSON),  # truncated JSON
        (b'{"inputs": [' + b"1, " * 350_000 + b"x]}", JSON),  # bad token at the end
        (b"\xff" * 1_000_000, JSON),  # not UTF-8 at all
        (b"a,b\n1,2\n" + b"1,2,3\n" * 200_000, "text/csv"),  # too many fields
        (body({"dataframe_split": {"columns": ["x"], "data": [[1, 2]] * 100_000}}), JSON),
        (body({"instances": [[1, 2]] * 100_000 + [[1]]}), JSON),
        (body({f"k{i}" * 50: i for i in range(20_000)}), JSON),
    ],
)
def test_megabyte_invalid_body_gives_a_short_error_message(raw, content_type):
    assert len(raw) > 500_000
    with pytest.raises(InvalidInputError) as caught:
        parse_request(raw, content_type)
    assert len(str(caught.value)) < 300


# --------------------------------------------------------------------- CSV


def test_csv_body_is_read_as_a_dataframe():
    parsed = parse_request(b"x,y\n1,a\n-1,b\n", "text/csv")
    assert frame(parsed)["x"].tolist() == [1, -1]
    assert frame(parsed)["y"].tolist() == ["a", "b"]
    assert parsed.params is None
    assert parsed.legacy is False


def test_csv_with_utf8_charset_is_accepted():
    parsed = parse_request("name\nzoë\n".encode(), "text/csv; charset=UTF-8")
    assert frame(parsed)["name"].tolist() == ["zoë"]


def test_empty_csv_is_malformed():
    with pytest.raises(InvalidInputError, match="malformed CSV"):
        parse_request(b"", "text/csv")


def test_csv_with_ragged_rows_is_malformed():
    with pytest.raises(InvalidInputError, match="malformed CSV"):
        parse_request(b"a,b\n1,2\n1,2,3,4\n", "text/csv")


# ------------------------------------------------------------------ excerpt


def test_excerpt_keeps_short_text_unchanged():
    assert excerpt("hello") == "hello"
    assert excerpt(b"hello") == "hello"


def test_excerpt_truncates_and_states_the_size():
    text = excerpt(b"x" * 1_000_000)
    assert text.startswith("x" * 80 + "...")
    assert "1000000 bytes" in text
    assert len(text) < 120


def test_excerpt_escapes_non_printables_and_bad_bytes():
    text = excerpt(b"a\nb\x00c\xffd")
    assert text == "a\\nb\\x00c\\xffd"
    assert text.isprintable()


# -------------------------------------------------------------- predictions


def test_modern_predictions_are_wrapped():
    assert dumps_predictions([1, 0], legacy=False) == b'{"predictions": [1, 0]}'


def test_legacy_predictions_are_a_bare_list():
    assert dumps_predictions([1, 0], legacy=True) == b"[1, 0]"


INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(-2, 12), max_size=80) | st.lists(st.integers(0, 9), min_size=32, max_size=300),
    dtype=st.sampled_from(INTEGER_DTYPES),
    legacy=st.booleans(),
)
def test_integer_predictions_are_what_json_dumps_writes(values: list[int], dtype: str, legacy: bool) -> None:
    """Labels 0-9 take a shortcut past the JSON encoder; every integer array,
    on it or not, answers the bytes json.dumps writes for its list."""
    values = [v for v in values if v >= 0] if dtype.startswith("u") else values
    array = np.array(values, dtype=dtype)
    expected = values if legacy else {"predictions": values}
    assert dumps_predictions(array, legacy=legacy) == json.dumps(expected).encode()


def test_many_single_digit_labels_take_the_shortcut_past_the_encoder() -> None:
    labels = np.arange(1000) % 10
    assert _digit_labels(labels) == json.dumps(labels.tolist()).encode()
    assert _digit_labels(np.append(labels, 10)) is None  # two digits: the encoder's job
    assert _digit_labels(labels.reshape(100, 10)) is None  # rows of labels: the encoder's job


def test_nan_and_infinity_become_null():
    out = dumps_predictions(np.array([1.5, np.nan, np.inf, -np.inf]), legacy=False)
    assert b"NaN" not in out
    assert b"Infinity" not in out
    assert strict_loads(out) == {"predictions": [1.5, None, None, None]}


def test_nan_hidden_in_python_containers_becomes_null():
    out = dumps_predictions({"a": [float("nan"), np.float64("inf")], "b": (np.float32("nan"), 1)}, legacy=True)
    assert b"NaN" not in out
    assert strict_loads(out) == {"a": [None, None], "b": [None, 1]}


def test_numpy_scalars_and_dtypes_serialise_as_json_values():
    out = dumps_predictions(
        [np.int64(3), np.float32(0.5), np.bool_(True), np.array([True, False]), np.array(["a", "b"])], legacy=True
    )
    assert strict_loads(out) == [3, 0.5, True, [True, False], ["a", "b"]]


def test_two_dimensional_float_array_with_nan_keeps_its_shape():
    out = dumps_predictions(np.array([[1.0, np.nan], [np.inf, 2.0]]), legacy=True)
    assert strict_loads(out) == [[1.0, None], [None, 2.0]]


def test_datetimes_become_iso_8601_strings():
    out = dumps_predictions(
        {
            "array": np.array(["2024-01-02T03:04:05", "NaT"], dtype="datetime64[ns]"),
            "scalar": np.datetime64("2024-01-02"),
            "timestamp": pd.Timestamp("2024-01-02 03:04:05"),
            "datetime": datetime.datetime(2024, 1, 2, 3, 4, 5),
            "date": datetime.date(2024, 1, 2),
            "nat": pd.NaT,
        },
        legacy=True,
    )
    assert strict_loads(out) == {
        "array": ["2024-01-02T03:04:05", None],
        "scalar": "2024-01-02",
        "timestamp": "2024-01-02T03:04:05",
        "datetime": "2024-01-02T03:04:05",
        "date": "2024-01-02",
        "nat": None,
    }


def test_sub_second_datetimes_keep_their_precision():
    out = dumps_predictions(np.array(["2024-01-02T03:04:05.250"], dtype="datetime64[ms]"), legacy=True)
    assert strict_loads(out) == ["2024-01-02T03:04:05.250"]


def test_bytes_become_base64():
    assert strict_loads(dumps_predictions([b"\x00\xff", np.array([b"ab"])], legacy=True)) == ["AP8=", ["YWI="]]


def test_object_array_with_mixed_values_serialises():
    values = np.array([1, "a", None, float("nan"), pd.Timestamp("2024-01-01")], dtype=object)
    assert strict_loads(dumps_predictions(values, legacy=True)) == [1, "a", None, None, "2024-01-01T00:00:00"]


def test_series_becomes_a_list():
    assert dumps_predictions(pd.Series([1.0, np.nan], name="p"), legacy=True) == b"[1.0, null]"


def test_nullable_integer_series_stays_integer():
    assert dumps_predictions(pd.Series([1, None], dtype="Int64"), legacy=True) == b"[1, null]"


def test_dataframe_becomes_a_list_of_records():
    frame = pd.DataFrame(
        {"p": [0.25, np.nan], "label": ["yes", None], "at": pd.to_datetime(["2024-01-01", None])},
    )
    out = dumps_predictions(frame, legacy=False)
    assert b"NaN" not in out
    assert strict_loads(out) == {
        "predictions": [
            {"p": 0.25, "label": "yes", "at": "2024-01-01T00:00:00"},
            {"p": None, "label": None, "at": None},
        ]
    }


def test_dataframe_with_non_string_column_names_serialises():
    out = dumps_predictions(pd.DataFrame([[1, 2]]), legacy=True)
    assert strict_loads(out) == [{"0": 1, "1": 2}]


def test_python_scalars_serialise():
    assert dumps_predictions(1, legacy=True) == b"1"
    assert dumps_predictions(float("nan"), legacy=False) == b'{"predictions": null}'
    assert dumps_predictions("yes", legacy=False) == b'{"predictions": "yes"}'


def test_non_ascii_strings_come_out_as_valid_utf8_json():
    out = dumps_predictions(["zoë", "\ud800"], legacy=True)
    out.decode("utf-8")
    assert strict_loads(out) == ["zoë", "\ud800"]


def test_unencodable_predictions_raise_a_gitreg_error():
    with pytest.raises(GitregError, match="cannot be encoded as JSON"):
        dumps_predictions(object(), legacy=True)
    with pytest.raises(GitregError, match="complex"):
        dumps_predictions(np.array([1j]), legacy=True)


# ------------------------------------------------------------------ property

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(["dataframe_split", "dataframe_records", "instances", "inputs", "params", "columns", "data"])
_bodies = (
    _json_values
    | st.dictionaries(_keys, _json_values, max_size=3)
    | st.builds(lambda key, value: {key: value}, _keys, _json_values)
    | st.builds(
        lambda columns, data, index: {"dataframe_split": {"columns": columns, "data": data, "index": index}},
        _json_values,
        _json_values,
        _json_values,
    )
    | st.builds(lambda columns, data: {"columns": columns, "data": data}, _json_values, _json_values)
)


@settings(max_examples=300, deadline=None)
@given(value=_bodies, content_type=st.sampled_from([None, JSON, SPLIT, RECORDS]))
def test_any_json_body_is_either_parsed_or_refused_as_invalid_input(value, content_type):
    try:
        parsed = parse_request(body(value), content_type)
    except InvalidInputError as exc:
        assert len(str(exc)) < 500
    else:
        assert isinstance(parsed, ParsedRequest)
