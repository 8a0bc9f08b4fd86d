"""Open Inference Protocol tensors in and out: the wire format of ``/v2/models/.../infer``.

How named tensors map onto a version's signature (the rules docs/serving.md states):

* A signature of **named columns**: one tensor per column, named as the
  column, of shape ``[N]`` or ``[N, 1]``; every tensor has the same ``N``.
  The tensors become the same :class:`~gitreg.signature.Rows` a
  ``dataframe_split`` body becomes, so the signature's enforcement (and its
  refusals) are exactly those of ``/invocations``. A name that is not a
  column is refused; a datatype the column's type cannot take is refused.
* A **tensor** signature, unnamed columns, or no signature at all: exactly
  one tensor, whatever its name, reshaped to its ``shape`` and handed to the
  model as ``/invocations`` hands it an ``inputs`` array.
* Predictions become output tensors: a DataFrame one tensor per column, a
  dict one per key, anything else one tensor named after the signature's
  single named output column, else ``predict``; ``datatype`` follows the
  numpy dtype (strings, objects and datetimes are ``BYTES``) and ``data`` is
  flat, row-major, with the JSON rules of ``/invocations`` (NaN is null).

Framework-free, as :mod:`gitreg.server.payload` is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitreg.extras import require

with require("serve"):
    import numpy as np
    import pandas as pd

from gitreg.errors import InvalidInputError
from gitreg.server.payload import excerpt, json_type
from gitreg.signature import ColSpec, Rows, Signature, TensorSchema, TensorSpec

__all__ = [
    "DATATYPES",
    "DEFAULT_INPUT",
    "DEFAULT_OUTPUT",
    "InferRequest",
    "TensorMeta",
    "datatype_of",
    "infer_response",
    "input_tensors",
    "output_tensors",
    "parse_infer_request",
]

# The protocol's datatypes and the numpy dtype each is read into.
DATATYPES: dict[str, str] = {
    "BOOL": "bool",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
_INTS = frozenset(k for k in DATATYPES if "INT" in k)
_FLOATS = frozenset(("FP16", "FP32", "FP64"))
# Which datatypes a signature column type takes; the values are then the signature's to check.
_ACCEPTS: dict[str, frozenset[str]] = {
    "boolean": frozenset(("BOOL",)),
    "integer": _INTS | _FLOATS,  # whole or not: the signature's enforcement says, as for /invocations
    "long": _INTS | _FLOATS,
    "float": _FLOATS | _INTS,
    "double": _FLOATS | _INTS,
    "string": frozenset(("BYTES",)),
    "binary": frozenset(("BYTES",)),
    "datetime": frozenset(("BYTES",)),
}
# The datatype metadata advertises for a column type.
_COLUMN_DATATYPE = {
    "boolean": "BOOL",
    "integer": "INT32",
    "long": "INT64",
    "float": "FP32",
    "double": "FP64",
    "string": "BYTES",
    "binary": "BYTES",
    "datetime": "BYTES",
}
DEFAULT_INPUT = "input-0"
DEFAULT_OUTPUT = "predict"
_REQUEST_KEYS = frozenset(("id", "parameters", "inputs", "outputs"))
_TENSOR_KEYS = frozenset(("name", "shape", "datatype", "parameters", "data"))
# Parameters clients of other servers send about the transport, not for the model.
_TRANSPORT_PARAMETERS = frozenset(("content_type", "headers", "binary_data_output"))


@dataclass(frozen=True, slots=True)
class TensorMeta:
    """A tensor as model metadata describes it (``-1``: any size)."""

    name: str
    datatype: str
    shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


@dataclass(frozen=True, slots=True)
class InferRequest:
    """What an inference request asks: the model's input, its params, the outputs wanted."""

    id: str | None
    data: Rows | np.ndarray
    params: dict[str, Any] | None
    outputs: tuple[str, ...] | None


# ------------------------------------------------------------------ metadata


def _named_columns(signature: Signature | None) -> tuple[ColSpec, ...] | None:
    if signature is None or signature.column_names is None:
        return None
    assert isinstance(signature.inputs, tuple)
    return signature.inputs


def datatype_of(dtype: Any) -> str:
    """The protocol datatype of a numpy dtype: strings, objects, datetimes are ``BYTES``."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return "BOOL"
    if dtype.kind in "iu" and dtype.itemsize in (1, 2, 4, 8):
        return f"{'U' if dtype.kind == 'u' else ''}INT{dtype.itemsize * 8}"
    if dtype.kind == "f" and dtype.itemsize in (2, 4, 8):
        return f"FP{dtype.itemsize * 8}"
    return "BYTES"


def _spec_datatype(dtype: str) -> str:
    try:
        return datatype_of(dtype)
    except TypeError:
        return "BYTES"


def input_tensors(signature: Signature | None) -> list[TensorMeta]:
    """The input tensors a version's signature asks for ([] without a signature)."""
    if signature is None:
        return []
    if isinstance(signature.inputs, TensorSpec):
        spec = signature.inputs
        return [TensorMeta(DEFAULT_INPUT, _spec_datatype(spec.dtype), spec.shape)]
    if isinstance(signature.inputs, TensorSchema):
        return [TensorMeta(str(t.name), _spec_datatype(t.dtype), t.shape) for t in signature.inputs]
    columns = _named_columns(signature)
    if columns is not None:
        return [TensorMeta(str(c.name), _COLUMN_DATATYPE.get(c.type, "BYTES"), (-1,)) for c in columns]
    types = {_COLUMN_DATATYPE.get(c.type, "BYTES") for c in signature.inputs}
    return [TensorMeta(DEFAULT_INPUT, types.pop() if len(types) == 1 else "BYTES", (-1, len(signature.inputs)))]


def _single_output_name(signature: Signature | None) -> str:
    outputs = signature.outputs if signature is not None else None
    if isinstance(outputs, tuple) and len(outputs) == 1 and outputs[0].name:
        return outputs[0].name
    return DEFAULT_OUTPUT


def output_tensors(signature: Signature | None) -> list[TensorMeta]:
    """The output tensors the signature promises ([] when it says nothing about outputs)."""
    outputs = signature.outputs if signature is not None else None
    if outputs is None:
        return []
    if isinstance(outputs, TensorSpec):
        return [TensorMeta(DEFAULT_OUTPUT, _spec_datatype(outputs.dtype), outputs.shape)]
    if isinstance(outputs, TensorSchema):
        return [TensorMeta(str(t.name), _spec_datatype(t.dtype), t.shape) for t in outputs]
    if len(outputs) == 1 or not all(c.name for c in outputs):
        types = {_COLUMN_DATATYPE.get(c.type, "BYTES") for c in outputs}
        name = _single_output_name(signature)
        shape = (-1,) if len(outputs) == 1 else (-1, len(outputs))
        return [TensorMeta(name, types.pop() if len(types) == 1 else "BYTES", shape)]
    return [TensorMeta(str(c.name), _COLUMN_DATATYPE.get(c.type, "BYTES"), (-1,)) for c in outputs]


# ------------------------------------------------------------------ requests


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(f"'{excerpt(n, 40)}'" for n in names[:20])
    return shown + (f" and {len(names) - 20} more" if len(names) > 20 else "") if names else "none"


def parse_infer_request(doc: Any, signature: Signature | None) -> InferRequest:
    """Read a decoded inference request for a model with ``signature``.

    Raises :class:`~gitreg.errors.InvalidInputError` naming the first
    problem: not the protocol's shape, an unknown datatype, data that does
    not match its datatype or shape, an input name the signature does not
    have, a datatype its column cannot take, columns of different lengths.
    """
    if not isinstance(doc, dict):
        raise InvalidInputError(
            f'expected an inference request object {{"inputs": [...]}}; got a JSON {json_type(doc)}'
        )
    unknown = [k for k in doc if k not in _REQUEST_KEYS]
    if unknown:
        raise InvalidInputError(
            f"unknown keys {_names(unknown)} in the inference request; it takes 'id', 'parameters', 'inputs', 'outputs'"
        )
    request_id = doc.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInputError(f"'id' must be a string; got a JSON {json_type(request_id)}")
    params = doc.get("parameters")
    if params is not None and not isinstance(params, dict):
        raise InvalidInputError(f"'parameters' must be an object; got a JSON {json_type(params)}")
    if params is not None:
        params = {k: v for k, v in params.items() if k not in _TRANSPORT_PARAMETERS} or None
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        got = "an empty array" if inputs == [] else f"a JSON {json_type(inputs)}"
        raise InvalidInputError(f"'inputs' must be a non-empty array of input tensors; got {got}")
    tensors = [_tensor(raw, i) for i, raw in enumerate(inputs)]
    columns = _named_columns(signature)
    data = _columns(tensors, columns) if columns is not None else _single(tensors)
    return InferRequest(request_id, data, params, _requested_outputs(doc.get("outputs")))


@dataclass(frozen=True, slots=True)
class _Tensor:
    name: str
    datatype: str
    shape: tuple[int, ...]
    array: np.ndarray


def _tensor(raw: Any, i: int) -> _Tensor:
    where = f"inputs[{i}]"
    if not isinstance(raw, dict):
        raise InvalidInputError(
            f"{where} must be an object with 'name', 'shape', 'datatype' and 'data'; got a JSON {json_type(raw)}"
        )
    missing = [k for k in ("name", "shape", "datatype", "data") if k not in raw]
    if missing:
        raise InvalidInputError(
            f"{where} lacks {_names(missing)}; an input tensor has 'name', 'shape', 'datatype', 'data'"
        )
    unknown = [k for k in raw if k not in _TENSOR_KEYS]
    if unknown:
        raise InvalidInputError(f"{where} has unknown keys {_names(unknown)}")
    name, shape, datatype, data = raw["name"], raw["shape"], raw["datatype"], raw["data"]
    if not isinstance(name, str):
        raise InvalidInputError(f"{where}: 'name' must be a string; got a JSON {json_type(name)}")
    where = f"input '{excerpt(name, 40)}'"
    parameters = raw.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise InvalidInputError(f"{where}: 'parameters' must be an object; got a JSON {json_type(parameters)}")
    if parameters and "binary_data_size" in parameters:
        raise InvalidInputError(f"{where}: the binary tensor data extension is not supported; send 'data' as JSON")
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        shown = excerpt(datatype, 20) if isinstance(datatype, str) else f"a JSON {json_type(datatype)}"
        raise InvalidInputError(f"{where}: unknown datatype {shown}; one of {', '.join(DATATYPES)}")
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise InvalidInputError(f"{where}: 'shape' must be an array of sizes (whole numbers, 0 or more)")
    if not isinstance(data, list):
        raise InvalidInputError(f"{where}: 'data' must be a JSON array; got a JSON {json_type(data)}")
    array = _array(data, datatype, where)
    size = math.prod(shape)
    if array.size != size or (array.ndim > 1 and list(array.shape) != shape):
        raise InvalidInputError(
            f"{where}: shape {shape} needs {size} elements, but 'data' holds {array.size}"
            + (f" shaped {list(array.shape)}" if array.ndim > 1 else "")
        )
    return _Tensor(name, datatype, tuple(shape), array.reshape(shape))


def _array(data: list[Any], datatype: str, where: str) -> np.ndarray:
    """``data`` as an array of ``datatype``, refusing elements of another JSON type or out of range."""
    try:
        array = np.asarray(data)
    except (ValueError, TypeError, OverflowError):
        raise InvalidInputError(f"{where}: 'data' is ragged: nested arrays must all have the same length") from None
    if array.dtype == object and any(isinstance(v, list) for v in array.flat):
        raise InvalidInputError(f"{where}: 'data' is ragged: nested arrays must all have the same length")
    if array.size == 0:
        return array.astype(DATATYPES[datatype])
    kind = array.dtype.kind
    if datatype == "BYTES":
        flat = array.ravel().tolist()
        if not all(type(v) is str for v in flat):
            raise InvalidInputError(f"{where}: BYTES data must be strings")
        return np.asarray(flat, dtype=object).reshape(array.shape)
    if datatype == "BOOL":
        if kind != "b":
            raise InvalidInputError(f"{where}: BOOL data must be true or false")
        return array
    target = np.dtype(DATATYPES[datatype])
    if datatype in _INTS:
        if kind not in "iub":
            raise InvalidInputError(f"{where}: {datatype} data must be whole numbers")
        info = np.iinfo(target)
        low, high = array.min(), array.max()
        if low < info.min or high > info.max:
            bad = low if low < info.min else high
            raise InvalidInputError(f"{where}: {bad} is out of range for {datatype}")
        return array.astype(target)
    if kind not in "iubf":
        raise InvalidInputError(f"{where}: {datatype} data must be numbers")
    return array.astype(target)


def _columns(tensors: list[_Tensor], columns: tuple[ColSpec, ...]) -> Rows:
    by_name = {c.name: c for c in columns}
    names = [str(c.name) for c in columns]
    seen: set[str] = set()
    values = []
    rows: int | None = None
    for t in tensors:
        where = f"input '{excerpt(t.name, 40)}'"
        spec = by_name.get(t.name)
        if spec is None:
            raise InvalidInputError(f"unknown {where}; the model's inputs are {_names(names)}")
        if t.name in seen:
            raise InvalidInputError(f"{where} is given twice")
        seen.add(t.name)
        accepted = _ACCEPTS.get(spec.type)
        if accepted is not None and t.datatype not in accepted:
            raise InvalidInputError(
                f"{where} has datatype {t.datatype} but column '{excerpt(t.name, 40)}' is {spec.type}; "
                f"send {_COLUMN_DATATYPE[spec.type]}"
            )
        if not (len(t.shape) == 1 or (len(t.shape) == 2 and t.shape[1] == 1)):
            raise InvalidInputError(f"{where} is one column: its shape must be [N] or [N, 1], got {list(t.shape)}")
        if rows is not None and t.shape[0] != rows:
            raise InvalidInputError(
                f"inputs have different numbers of rows: '{excerpt(tensors[0].name, 40)}' has {rows}, "
                f"'{excerpt(t.name, 40)}' has {t.shape[0]}"
            )
        rows = t.shape[0]
        values.append(t.array.ravel().tolist())
    return Rows(tuple(t.name for t in tensors), [list(row) for row in zip(*values, strict=True)])


def _single(tensors: list[_Tensor]) -> np.ndarray:
    if len(tensors) != 1:
        raise InvalidInputError(
            f"this model takes one input tensor (a batch of rows); got {len(tensors)}: "
            f"{_names([t.name for t in tensors])}"
        )
    return tensors[0].array


def _requested_outputs(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(o, dict) and isinstance(o.get("name"), str) for o in raw):
        raise InvalidInputError('\'outputs\' must be an array of objects like {"name": "predict"}')
    return tuple(o["name"] for o in raw)


# ----------------------------------------------------------------- responses


def _output_arrays(predictions: Any, default: str) -> list[tuple[str, np.ndarray]]:
    if isinstance(predictions, pd.DataFrame):
        return [(str(c), predictions.iloc[:, i].to_numpy()) for i, c in enumerate(predictions.columns)]
    if isinstance(predictions, dict):
        return [(str(k), np.asarray(v)) for k, v in predictions.items()]
    if isinstance(predictions, pd.Series | pd.Index):
        return [(default, predictions.to_numpy())]
    return [(default, np.asarray(predictions))]


def infer_response(
    predictions: Any,
    signature: Signature | None,
    *,
    model_name: str,
    model_version: str | None,
    request: InferRequest,
) -> dict[str, Any]:
    """The inference response for ``predictions``; the request's ``id`` is echoed.

    Raises :class:`~gitreg.errors.InvalidInputError` when the request asked
    for an output the model did not produce.
    """
    outputs = _output_arrays(predictions, _single_output_name(signature))
    if request.outputs is not None:
        produced = {name: array for name, array in outputs}
        unknown = [n for n in request.outputs if n not in produced]
        if unknown:
            raise InvalidInputError(f"unknown output {_names(unknown)}; the model produces {_names(list(produced))}")
        outputs = [(n, produced[n]) for n in dict.fromkeys(request.outputs)]
    doc: dict[str, Any] = {"model_name": model_name}
    if model_version is not None:
        doc["model_version"] = model_version
    if request.id is not None:
        doc["id"] = request.id
    doc["outputs"] = [
        {"name": name, "datatype": datatype_of(array.dtype), "shape": list(array.shape), "data": array.ravel()}
        for name, array in outputs
    ]
    return doc
