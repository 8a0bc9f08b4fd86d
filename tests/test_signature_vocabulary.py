"""MLflow's whole signature vocabulary: nested column types, optional columns,
several named tensors and the params schema read without loss, write back as
MLflow wrote them, and are enforced on input and on inference params."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pytest

from gitreg.errors import InvalidInputError
from gitreg.signature import (
    Array,
    ColSpec,
    Map,
    Object,
    ParamSpec,
    Property,
    Signature,
    TensorSchema,
    TensorSpec,
    enforce,
    enforce_params,
)

# What MLflow 3.17 writes into MLmodel (copied from mlflow.pyfunc.save_model's output).
INPUTS = (
    '[{"type": "double", "name": "a", "required": true}, {"type": "array", "items": {"type": "string"}, '
    '"name": "b", "required": true}, {"type": "object", "properties": {"p": {"type": "long", "required": true}, '
    '"q": {"type": "array", "items": {"type": "double"}, "required": false}}, "name": "c", "required": true}, '
    '{"type": "map", "values": {"type": "double"}, "name": "d", "required": true}, {"type": "any", "name": "e", '
    '"required": false}, {"type": "string", "name": "f", "required": false}]'
)
TENSORS = (
    '[{"name": "a", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}, '
    '{"name": "b", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
)
PARAMS = (
    '[{"name": "temperature", "default": 0.5, "shape": null, "type": "double"}, {"name": "n", "default": 1, '
    '"shape": null, "type": "long"}, {"name": "tags", "default": ["a"], "shape": [-1], "type": "string"}, '
    '{"name": "when", "default": "2024-01-02T03:04:05", "shape": null, "type": "datetime"}, {"name": "cfg", '
    '"default": {"k": "v"}, "shape": null, "type": "object", "properties": {"k": {"type": "string", '
    '"required": true}}}]'
)
MLFLOW = {"inputs": INPUTS, "outputs": '[{"type": "string", "required": true}]', "params": PARAMS}


def test_mlflow_signature_reads_every_type_and_writes_back_byte_for_byte() -> None:
    sig = Signature.from_dict(MLFLOW)
    assert sig.inputs == (
        ColSpec("double", "a"),
        ColSpec.of(Array("string"), "b"),
        ColSpec.of(Object((Property("p", "long"), Property("q", Array("double"), required=False))), "c"),
        ColSpec.of(Map("double"), "d"),
        ColSpec("any", "e", required=False),
        ColSpec("string", "f", required=False),
    )
    assert sig.params is not None and [p.name for p in sig.params] == ["temperature", "n", "tags", "when", "cfg"]
    assert sig.to_mlflow() == MLFLOW


def test_the_manifest_form_keeps_everything_too() -> None:
    sig = Signature.from_dict(MLFLOW)
    assert Signature.from_dict(sig.to_dict()) == sig
    assert "params" not in Signature.from_dict({"inputs": INPUTS}).to_dict()  # old manifests are unchanged


def test_several_named_tensors_are_all_kept() -> None:
    sig = Signature.from_dict({"inputs": TENSORS})
    assert sig.inputs == TensorSchema((TensorSpec("float32", (-1, 3), "a"), TensorSpec("int64", (-1,), "b")))
    assert sig.to_mlflow()["inputs"] == TENSORS
    assert sig.column_names is None


def test_one_named_tensor_keeps_its_name() -> None:
    raw = '[{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]'
    sig = Signature.from_dict({"inputs": raw})
    assert sig.inputs == TensorSpec("float64", (-1, 2), "x") and sig.to_mlflow()["inputs"] == raw


@pytest.mark.parametrize(
    ("inputs", "params", "message"),
    [
        ('[{"type": "double"}, {"type": "tensor", "tensor-spec": {"dtype": "f8", "shape": [-1]}}]', None, "mix"),
        (
            '[{"type": "tensor", "tensor-spec": {"dtype": "f8", "shape": [-1]}}, '
            '{"type": "tensor", "tensor-spec": {"dtype": "f8", "shape": [-1]}}]',
            None,
            "different name",
        ),
        ('[{"type": "array", "name": "a"}]', None, "type must be one of"),
        ('[{"type": "object", "properties": {}}]', None, "needs 'properties'"),
        ('[{"type": "double"}]', '[{"name": "t", "default": "hot", "shape": null, "type": "double"}]', "double"),
        ('[{"type": "double"}]', '[{"name": "t", "default": 1, "shape": [2], "type": "long"}]', "shape"),
        ('[{"type": "double"}]', '[{"name": "t", "default": "x", "shape": null, "type": "binary"}]', "param type"),
        ('[{"type": "double"}]', '[{"name": "t", "type": "long"}]', "'default'"),
    ],
)
def test_malformed_signatures_are_refused_naming_the_problem(inputs: str, params: str | None, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Signature.from_dict({"inputs": inputs, "params": params})


def test_nested_columns_are_checked_value_by_value() -> None:
    sig = Signature.from_dict({"inputs": INPUTS})
    good = pd.DataFrame({"a": [1], "b": [["x", "y"]], "c": [{"p": 3}], "d": [{"k": 1}], "e": [object()]})
    out = enforce(sig, good)
    assert out["a"].dtype == np.float64 and out["b"][0] == ["x", "y"] and out["d"][0] == {"k": 1.0}
    for column, value, message in [
        ("b", [1, 2], "expects a string"),
        ("b", "xy", "expects an array"),
        ("c", {"q": [1.0]}, "missing required properties: 'p'"),
        ("c", {"p": 1, "z": 0}, "does not define: 'z'"),
        ("d", {"k": "one"}, "expects a double"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            enforce(sig, good.assign(**{column: [value]}))


def test_optional_columns_may_be_left_out_and_required_ones_may_not() -> None:
    sig = Signature.from_dict({"inputs": INPUTS})
    frame = pd.DataFrame({"a": [1.0], "b": [["x"]], "c": [{"p": 1}], "d": [{}]})
    assert list(enforce(sig, frame).columns) == ["a", "b", "c", "d"]
    with pytest.raises(InvalidInputError, match="missing column"):
        enforce(sig, frame.drop(columns="b"))


def test_named_tensors_are_each_checked_and_extras_dropped() -> None:
    sig = Signature.from_dict({"inputs": TENSORS})
    out = enforce(sig, {"a": [[1, 2, 3]], "b": [4], "extra": [0]})
    assert set(out) == {"a", "b"} and out["a"].dtype == np.float32 and out["b"].dtype == np.int64
    with pytest.raises(InvalidInputError, match=r"missing tensor.*'b'"):
        enforce(sig, {"a": [[1, 2, 3]]})
    with pytest.raises(InvalidInputError, match=r"Tensor 'a'.*shape"):
        enforce(sig, {"a": [[1, 2]], "b": [4]})
    with pytest.raises(InvalidInputError, match="named tensors"):
        enforce(sig, [[1, 2, 3]])


def test_params_are_checked_widened_and_filled_with_defaults() -> None:
    schema = Signature.from_dict(MLFLOW).params
    got = enforce_params(schema, {"n": np.int64(3), "temperature": 1, "when": "2025-05-06"})
    assert got == {
        "temperature": 1.0,
        "n": 3,
        "tags": ["a"],
        "when": dt.datetime(2025, 5, 6),
        "cfg": {"k": "v"},
    }
    assert isinstance(got["temperature"], float) and type(got["n"]) is int
    assert enforce_params(schema, {})["when"] == dt.datetime(2024, 1, 2, 3, 4, 5)  # type: ignore[index]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"n": 1.5}, "'n' expects a long"),
        ({"temperature": "hot"}, "'temperature' expects a double"),
        ({"tags": "a"}, "'tags' expects a list"),
        ({"n": [1, 2]}, "'n' expects a single"),
        ({"cfg": {"k": 1}}, "expects a string"),
        ({"when": "soon"}, "'when' expects a datetime"),
    ],
)
def test_invalid_params_are_refused_naming_them(given: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        enforce_params(Signature.from_dict(MLFLOW).params, given)


def test_unknown_params_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    schema = (ParamSpec("k", "long", 1),)
    with caplog.at_level(logging.WARNING, logger="gitreg"):
        assert enforce_params(schema, {"k": 2, "bogus": 0}) == {"k": 2}
    assert "'bogus'" in caplog.text and "ignored" in caplog.text


def test_params_without_a_params_schema_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gitreg"):
        assert enforce_params(None, {"temperature": 0.1}) is None
    assert "temperature" in caplog.text and "params schema" in caplog.text
    caplog.clear()
    assert enforce_params(None, None) is None and enforce_params(None, {}) is None
    assert caplog.text == ""
