"""Model signatures: what input a model expects, inferred at registration
and enforced at prediction.

Stored in MLflow's vocabulary so an MLflow user reads them without
translation, and so an ``MLmodel`` signature written by MLflow reads without
loss and writes back as MLflow wrote it: column types ``boolean``,
``integer``, ``long``, ``float``, ``double``, ``string``, ``binary``,
``datetime``, ``any`` and the nested ``array`` (:class:`Array`), ``object``
(:class:`Object`) and ``map`` (:class:`Map`); optional columns; tensor specs
(one, or several named ones) with a numpy dtype and a shape where ``-1`` is
any size; and the params schema (:class:`ParamSpec`), the inference-time
parameters a model takes. numpy and pandas are imported only when a
signature is inferred or enforced, never to read a manifest.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from gitreg.errors import InvalidInputError

log = logging.getLogger("gitreg")
SCALAR_TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime", "any")
COLUMN_TYPES = (*SCALAR_TYPES, "array", "object", "map")
# what MLflow allows a parameter to be (no binary; any object of properties)
PARAM_TYPES = ("boolean", "integer", "long", "float", "double", "string", "datetime", "object")
_NUMPY_OF = {
    "boolean": "bool",
    "integer": "int32",
    "long": "int64",
    "float": "float32",
    "double": "float64",
}
# The numpy kinds each numeric column type takes without parsing (bool, int, uint, float).
_NUMERIC_KINDS = {"double": "fiub", "float": "fiub", "long": "iub", "integer": "iub"}


@dataclass(frozen=True)
class Array:
    """MLflow's ``array`` type: a list whose every item is of ``items``."""

    items: DataType

    def to_dict(self) -> dict[str, Any]:
        return {"type": "array", "items": type_dict(self.items)}

    def __str__(self) -> str:
        return f"array<{self.items}>"


@dataclass(frozen=True)
class Map:
    """MLflow's ``map`` type: text keys, every value of ``values``."""

    values: DataType

    def to_dict(self) -> dict[str, Any]:
        return {"type": "map", "values": type_dict(self.values)}

    def __str__(self) -> str:
        return f"map<string, {self.values}>"


@dataclass(frozen=True)
class Property:
    """One named field of an :class:`Object`."""

    name: str
    type: DataType
    required: bool = True


@dataclass(frozen=True)
class Object:
    """MLflow's ``object`` type: a mapping with these properties and no others."""

    properties: tuple[Property, ...]

    def to_dict(self) -> dict[str, Any]:
        props = {p.name: {**type_dict(p.type), "required": p.required} for p in self.properties}
        return {"type": "object", "properties": props}

    def __str__(self) -> str:
        return "{" + ", ".join(f"{p.name}{'' if p.required else '?'}: {p.type}" for p in self.properties) + "}"


# A scalar type is its MLflow name (``"double"``, ``"any"``); nested types are values.
DataType = str | Array | Map | Object


def type_dict(t: DataType) -> dict[str, Any]:
    """``t`` as MLflow writes a type: ``{"type": "double"}``, ``{"type": "array", "items": ...}``."""
    return {"type": t} if isinstance(t, str) else t.to_dict()


@dataclass(frozen=True)
class ColSpec:
    """One column: ``type`` is its MLflow type name (``"double"``, ``"array"``…);
    for ``array``, ``map`` and ``object`` columns ``nested`` holds the full type."""

    type: str
    name: str | None = None
    required: bool = True
    nested: Array | Map | Object | None = None

    @classmethod
    def of(cls, t: DataType, name: str | None = None, required: bool = True) -> ColSpec:
        """A column of any type, scalar or nested."""
        if isinstance(t, str):
            return cls(t, name, required)
        return cls(str(type_dict(t)["type"]), name, required, t)

    @property
    def data_type(self) -> DataType:
        """The column's full type: the name of a scalar type, or the nested type."""
        return self.nested if self.nested is not None else self.type

    def to_dict(self, mlflow: bool = False) -> dict[str, Any]:
        """gitreg's manifest form leaves out ``required: true``; MLflow 3 always writes it."""
        d: dict[str, Any] = type_dict(self.data_type)
        if self.name is not None:
            d["name"] = self.name
        if mlflow or not self.required:
            d["required"] = self.required
        return d


@dataclass(frozen=True)
class TensorSpec:
    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    @property
    def type(self) -> str:
        """The element dtype (what MLflow's ``TensorSpec.type`` answers)."""
        return self.dtype

    @property
    def required(self) -> bool:
        """A tensor is always required, as in MLflow."""
        return True

    def to_dict(self, mlflow: bool = False) -> dict[str, Any]:
        spec = {"type": "tensor", "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)}}
        return spec if self.name is None else {"name": self.name, **spec}


@dataclass(frozen=True)
class ParamSpec:
    """One inference-time parameter: its name, type, default and shape
    (None for a scalar, or an object's mapping; ``(-1,)`` for a list).
    ``default`` is kept as written (JSON), so the schema writes back unchanged."""

    name: str
    type: str | Object
    default: Any
    shape: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        shape = list(self.shape) if self.shape is not None else None
        return {"name": self.name, "default": self.default, "shape": shape, **type_dict(self.type)}

    def check(self, value: Any) -> Any:
        """``value`` as the model receives it (numbers widened, datetimes parsed);
        :class:`InvalidInputError` when it has the wrong type or shape."""
        where = f"param {self.name!r}"
        if self.shape is None:
            if isinstance(value, list | tuple) or (hasattr(value, "ndim") and value.ndim):
                raise InvalidInputError(f"{where} expects a single {self.type} value, got a list.")
            return check_value(value, self.type, where)
        value = _plain(value)
        if not isinstance(value, list | tuple):
            raise InvalidInputError(f"{where} expects a list of {self.type} values (shape [-1]), got {value!r:.60}.")
        return [check_value(v, self.type, f"{where}[{i}]") for i, v in enumerate(value)]


@dataclass(frozen=True)
class TensorSchema:
    """Several named tensors (one tensor is a bare :class:`TensorSpec`). Not a
    tuple, so ``isinstance(schema, tuple)`` still means columns; iterating it
    gives the tensors, which have a ``name``, a ``type`` and ``required`` as columns do."""

    specs: tuple[TensorSpec, ...]

    def __iter__(self) -> Iterator[TensorSpec]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)


ColumnSchema = tuple[ColSpec, ...]
Schema = ColumnSchema | TensorSpec | TensorSchema
ParamSchema = tuple[ParamSpec, ...]


def column_specs(schema: Schema | None) -> ColumnSchema | None:
    """The columns of a column schema, None for a tensor schema or none at all."""
    return schema if isinstance(schema, tuple) and schema else None


@dataclass(frozen=True)
class Signature:
    inputs: Schema
    outputs: Schema | None = None
    params: ParamSchema | None = None

    @property
    def column_names(self) -> list[str] | None:
        cols = column_specs(self.inputs)
        if cols is None:
            return None
        names = [c.name for c in cols]
        return [n for n in names if n is not None] if all(n is not None for n in names) else None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"inputs": _schema_to_list(self.inputs), "outputs": _schema_to_list(self.outputs)}
        if self.params is not None:
            d["params"] = [p.to_dict() for p in self.params]
        return d

    def to_mlflow(self) -> dict[str, Any]:
        """The MLmodel form: each schema as a JSON string, as MLflow writes it."""
        return {
            "inputs": json.dumps(_schema_to_list(self.inputs, mlflow=True)),
            "outputs": json.dumps(_schema_to_list(self.outputs, mlflow=True)) if self.outputs is not None else None,
            "params": json.dumps([p.to_dict() for p in self.params]) if self.params is not None else None,
        }

    @classmethod
    def from_dict(cls, data: object, where: str = "signature") -> Signature:
        """Read either gitreg's form (lists) or MLflow's (JSON strings)."""
        if not isinstance(data, dict) or "inputs" not in data:
            raise InvalidInputError(f"{where}: expected a mapping with 'inputs'.")
        inputs = _schema_from(data["inputs"], f"{where}.inputs")
        if inputs is None:
            raise InvalidInputError(f"{where}.inputs: must not be empty.")
        outputs = _schema_from(data.get("outputs"), f"{where}.outputs")
        return cls(inputs, outputs, _params_from(data.get("params"), f"{where}.params"))


def _schema_to_list(schema: Schema | None, mlflow: bool = False) -> list[dict[str, Any]] | None:
    if schema is None:
        return None
    if isinstance(schema, TensorSpec):
        return [schema.to_dict()]
    return [c.to_dict(mlflow) for c in schema]


def _json_list(raw: object, where: str, what: str) -> list[Any]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{where}: not valid JSON ({exc.msg}).") from None
        except (ValueError, RecursionError):  # an integer of thousands of digits; nesting deeper than Python recurses
            raise InvalidInputError(f"{where}: JSON too large or too deeply nested to be a schema.") from None
    if not isinstance(raw, list) or not raw:
        raise InvalidInputError(f"{where}: expected a non-empty list of {what}.")
    return raw


def _schema_from(raw: object, where: str) -> Schema | None:
    if raw is None:
        return None
    specs = _json_list(raw, where, "column or tensor specs")
    tensors = [isinstance(s, dict) and s.get("type") == "tensor" for s in specs]
    if any(tensors) and not all(tensors):
        raise InvalidInputError(f"{where}: a schema is either all columns or all tensors, not a mix.")
    if all(tensors):
        found = tuple(_tensor_from(s, f"{where}[{i}]") for i, s in enumerate(specs))
        if len(found) == 1:
            return found[0]
        names = [t.name for t in found]
        if None in names or len(set(names)) != len(names):
            raise InvalidInputError(f"{where}: several tensors must each have a different name.")
        return TensorSchema(found)
    return tuple(_colspec_from(s, f"{where}[{i}]") for i, s in enumerate(specs))


def _tensor_from(s: dict[str, Any], where: str) -> TensorSpec:
    spec = s.get("tensor-spec")
    shape = spec.get("shape") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or not isinstance(spec.get("dtype"), str) or not isinstance(shape, list):
        raise InvalidInputError(f"{where}: tensor spec needs 'dtype' (text) and 'shape' (a list).")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= -1 for n in shape):
        raise InvalidInputError(f"{where}: tensor shape must be a list of sizes (-1 for any), got {shape!r:.60}.")
    name = s.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidInputError(f"{where}: tensor name must be a string.")
    return TensorSpec(spec["dtype"], tuple(shape), name)


def _colspec_from(s: object, where: str) -> ColSpec:
    if not isinstance(s, dict):
        raise InvalidInputError(f"{where}: expected a column spec (a mapping with 'type').")
    name, required = s.get("name"), s.get("required", True)
    if name is not None and not isinstance(name, str):
        raise InvalidInputError(f"{where}: column name must be a string.")
    if not isinstance(required, bool):
        raise InvalidInputError(f"{where}: 'required' must be true or false.")
    return ColSpec.of(_type_from(s, where), name, required)


def _type_from(s: object, where: str, depth: int = 0) -> DataType:
    """A type from MLflow's JSON: ``{"type": "double"}`` or a nested array, map or object."""
    kind = s.get("type") if isinstance(s, dict) else None
    if not isinstance(s, dict) or kind not in COLUMN_TYPES:
        raise InvalidInputError(f"{where}: type must be one of {', '.join(COLUMN_TYPES)}.")
    if depth > 32:
        raise InvalidInputError(f"{where}: types nested more than 32 deep are not a schema.")
    if kind == "array":
        return Array(_type_from(s.get("items"), f"{where}.items", depth + 1))
    if kind == "map":
        return Map(_type_from(s.get("values"), f"{where}.values", depth + 1))
    if kind == "object":
        props = s.get("properties")
        if not isinstance(props, dict) or not props:
            raise InvalidInputError(f"{where}: an object type needs 'properties', a mapping of names to types.")
        return Object(tuple(_property_from(k, v, f"{where}.properties.{k}", depth) for k, v in props.items()))
    return str(kind)


def _property_from(name: object, raw: object, where: str, depth: int) -> Property:
    required = raw.get("required", True) if isinstance(raw, dict) else True
    if not isinstance(name, str) or not isinstance(required, bool):
        raise InvalidInputError(f"{where}: a property needs a text name and 'required' true or false.")
    return Property(name, _type_from(raw, where, depth + 1), required)


def _params_from(raw: object, where: str) -> ParamSchema | None:
    if raw is None:
        return None
    specs = _json_list(raw, where, "param specs")
    found = tuple(_param_from(s, f"{where}[{i}]") for i, s in enumerate(specs))
    names = [p.name for p in found]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"{where}: each param must have a different name.")
    return found


def _param_from(s: object, where: str) -> ParamSpec:
    if not isinstance(s, dict) or not isinstance(s.get("name"), str) or "default" not in s:
        raise InvalidInputError(f"{where}: a param spec needs 'name' (text), 'type' and 'default'.")
    kind = s.get("type", s.get("dtype"))  # MLflow still reads its old 'dtype' key
    if kind not in PARAM_TYPES:
        raise InvalidInputError(f"{where}: param type must be one of {', '.join(PARAM_TYPES)}.")
    ptype = _type_from({**s, "type": kind}, where) if kind == "object" else str(kind)
    assert isinstance(ptype, str | Object)
    shape = s.get("shape")
    if shape is not None and shape != [-1]:
        raise InvalidInputError(f"{where}: param shape must be null (a single value) or [-1] (a list).")
    spec = ParamSpec(s["name"], ptype, s["default"], (-1,) if shape is not None else None)
    spec.check(spec.default)  # as MLflow, a default must be a valid value
    return spec


# -- values (params, and the items of array, map and object columns) ----------


def _plain(value: Any) -> Any:
    """A numpy scalar or array as the Python value or list it holds (no numpy import)."""
    if hasattr(value, "tolist") and callable(value.tolist):
        return value.tolist()
    return value


def _to_datetime(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"got {value!r:.60}, which is not a date or an ISO 8601 time")


_SCALAR_CHECKS: dict[str, Callable[[Any], Any]] = {
    "boolean": lambda v: v if isinstance(v, bool) else None,
    "integer": lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None,
    "long": lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None,
    "float": lambda v: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None,
    "double": lambda v: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None,
    "string": lambda v: v if isinstance(v, str) else None,
    "binary": lambda v: v if isinstance(v, bytes | bytearray | str) else None,
}


def check_value(value: Any, t: DataType, where: str) -> Any:
    """``value`` checked against ``t`` (MLflow's conversions: ints widen to
    floats, ISO text parses as a datetime); None passes, as in MLflow.
    :class:`InvalidInputError` names ``where`` and what was wrong."""
    value = _plain(value)
    if value is None or t == "any":
        return value
    if isinstance(t, Array):
        if not isinstance(value, list | tuple):
            raise InvalidInputError(f"{where} expects an array of {t.items}, got {value!r:.60}.")
        return [check_value(v, t.items, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(t, Map | Object):
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise InvalidInputError(f"{where} expects a mapping with text keys ({t}), got {value!r:.60}.")
        if isinstance(t, Map):
            return {k: check_value(v, t.values, f"{where}[{k!r}]") for k, v in value.items()}
        return _check_object(value, t, where)
    if t == "datetime":
        try:
            return _to_datetime(value)
        except ValueError as exc:
            raise InvalidInputError(f"{where} expects a datetime: {exc}.") from None
    checked = _SCALAR_CHECKS[t](value)
    if checked is None:
        raise InvalidInputError(f"{where} expects a {t} value, got {type(value).__name__} {value!r:.60}.")
    return checked


def _check_object(value: dict[str, Any], t: Object, where: str) -> dict[str, Any]:
    known = {p.name: p for p in t.properties}
    extra = [k for k in value if k not in known]
    if extra:
        raise InvalidInputError(f"{where} has properties the schema does not define: {', '.join(map(repr, extra))}.")
    missing = [p.name for p in t.properties if p.required and p.name not in value]
    if missing:
        raise InvalidInputError(f"{where} is missing required properties: {', '.join(map(repr, missing))}.")
    return {k: check_value(v, known[k].type, f"{where}.{k}") for k, v in value.items()}


# -- inference -----------------------------------------------------------------


def _column_type(dtype: Any) -> str:
    import numpy as np

    kind = np.dtype(dtype).kind if not hasattr(dtype, "kind") else dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "long" if np.dtype(dtype).itemsize > 4 or kind == "u" else "integer"
    if kind == "f":
        return "double" if np.dtype(dtype).itemsize > 4 else "float"
    if kind == "M":
        return "datetime"
    if kind == "S":
        return "binary"
    return "string"


def infer_schema(example: Any) -> Schema:
    """Columns and types of a DataFrame or dict; dtype and shape of an array."""
    import numpy as np
    import pandas as pd

    if isinstance(example, dict):
        example = pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in example.items()})
    if isinstance(example, pd.Series):
        example = example.to_frame()
    if isinstance(example, pd.DataFrame):
        return tuple(ColSpec(_column_type(example[c].dtype), str(c)) for c in example.columns)
    arr = np.asarray(example)
    if arr.dtype == object:
        raise InvalidInputError("Cannot infer a signature from a ragged or mixed-type example; pass signature=.")
    shape = (-1, *arr.shape[1:]) if arr.ndim else (-1,)
    return TensorSpec(str(arr.dtype), shape)


def infer_signature(model_input: Any, model_output: Any = None) -> Signature:
    """The signature of an input example (and optionally of the model's output)."""
    return Signature(infer_schema(model_input), infer_schema(model_output) if model_output is not None else None)


# -- enforcement ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rows:
    """A table as a JSON body carries it: rows of plain values under unique column names.

    Kept as Python lists until a model needs more. Building a DataFrame and
    checking it column by column costs more than one prediction of most
    estimators, while a table whose columns all have the signature's numeric
    type goes straight to one numpy array (:func:`rows_as_array`), which is
    all an estimator fitted on arrays ever sees. Every row has one value per
    column; whoever builds a ``Rows`` checks that.
    """

    columns: tuple[str, ...]
    data: list[list[Any]]

    def to_frame(self) -> Any:
        import pandas as pd

        try:
            return pd.DataFrame(self.data, columns=list(self.columns))
        except (ValueError, TypeError, OverflowError) as exc:
            raise InvalidInputError(f"Cannot build a table from the rows: {str(exc)[:160]}") from None


def rows_as_array(data: Rows, cols: tuple[ColSpec, ...]) -> Any:
    """``enforce_columns(data.to_frame(), cols).to_numpy()`` in one numpy
    conversion, for the common case of a scoring request; None when it does
    not apply, and the general path then decides (and words any refusal).

    It applies when every column of the signature is named, present and of
    one numeric type, and every value is already of a kind that type takes
    losslessly (what :func:`_convert` accepts without parsing): the result
    is then the same array, columns in the signature's order, extras dropped.
    """
    import numpy as np

    kind = cols[0].type
    if not isinstance(kind, str) or kind not in _NUMERIC_KINDS or not data.data:
        return None
    kinds = _NUMERIC_KINDS[kind]
    position = {name: i for i, name in enumerate(data.columns)}
    picks = []
    for c in cols:
        if c.type != kind or c.name not in position:
            return None
        picks.append(position[c.name])
    rows, width = len(data.data), len(data.columns)
    try:
        # One flat list, then one 1-D conversion: numpy infers the dtype of
        # the same values either way, at half the cost of the nested lists.
        flat = np.array(list(chain.from_iterable(data.data)))
    except (ValueError, TypeError, OverflowError):
        return None
    if flat.ndim != 1 or flat.size != rows * width or flat.dtype.kind not in kinds:  # strings, None: object or str
        return None  # (a nested list in a cell makes the flat array 2-D or ragged)
    array = flat.reshape(rows, width)
    if picks != list(range(width)):
        array = array[:, picks]
    return array.astype(_NUMPY_OF[kind], copy=False)


def to_frame(data: Any, columns: list[str] | None = None) -> Any:
    """A DataFrame from what users pass to ``predict``: a DataFrame, a dict
    of columns, a list of records, :class:`Rows`, or rows (named by
    ``columns`` if given)."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, Rows):
        return data.to_frame()
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, dict):
        try:
            return pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in data.items()})
        except ValueError as exc:
            raise InvalidInputError(f"Input columns have different lengths: {exc}") from None
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return pd.DataFrame.from_records(data)
    arr = np.asarray(data)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1) if columns is None or len(columns) == 1 else arr.reshape(1, -1)
    if arr.ndim != 2:
        raise InvalidInputError(f"Expected tabular input (rows of values), got an array of shape {arr.shape}.")
    if columns is not None and arr.shape[1] != len(columns):
        raise InvalidInputError(
            f"Input has {arr.shape[1]} column(s) but the model expects {len(columns)}: {', '.join(columns)}."
        )
    return pd.DataFrame(arr, columns=columns)


def enforce_columns(data: Any, cols: tuple[ColSpec, ...] | list[ColSpec]) -> Any:
    """Reorder by name, drop extras, convert compatible types; refuse the rest."""
    import pandas as pd

    names = [c.name for c in cols if c.name is not None]
    named = len(names) == len(cols)
    frame = to_frame(data, names if named else None)
    if named:
        fast = _same_numeric_type(frame, names, cols)
        if fast is not None:
            return fast
    if not named:
        if frame.shape[1] != len(cols):
            raise InvalidInputError(f"Input has {frame.shape[1]} column(s) but the model expects {len(cols)}.")
        frame = frame.set_axis([str(i) for i in range(len(cols))], axis=1)
        names = list(frame.columns)
    present = {str(c) for c in frame.columns}
    missing = [c.name for c in cols if c.name is not None and c.name not in present and c.required]
    if missing and named:
        raise InvalidInputError(
            f"Input is missing column(s) {', '.join(map(repr, missing))}; the model expects "
            f"{', '.join(map(repr, names))} (got {', '.join(map(repr, list(present)[:20]))})."
        )
    frame = frame.rename(columns=str)
    out = {}
    for spec, name in zip(cols, names, strict=True):
        if name not in present:
            continue
        out[name] = _convert(frame[name], spec.data_type, name)
    return pd.DataFrame(out, index=frame.index)


def _same_numeric_type(frame: Any, names: list[str], cols: Any) -> Any:
    """The common case of a scoring request, done in one numpy conversion: the
    frame has exactly the signature's columns in order, every column has the
    same numeric type and every value already converts losslessly by kind
    (what :func:`_convert` would do column by column). None when it does not
    apply; the general path then decides.

    A scoring server pays ``enforce_columns`` on every request; the general
    path's per-column pandas calls cost several times the prediction itself.
    """
    import numpy as np
    import pandas as pd

    kind = cols[0].type
    kinds = _NUMERIC_KINDS.get(kind)
    if kinds is None or any(c.type != kind for c in cols) or frame.columns.tolist() != names:
        return None
    dtypes = frame.dtypes.tolist()
    if not all(isinstance(d, np.dtype) and d.kind in kinds for d in dtypes):
        return None
    target = _NUMPY_OF[kind]
    if all(d == target for d in dtypes):
        return frame
    return pd.DataFrame(frame.to_numpy(dtype=target), columns=names, index=frame.index)


def _convert(col: Any, kind: DataType, name: str) -> Any:
    import numpy as np
    import pandas as pd

    def refuse(detail: str) -> InvalidInputError:
        return InvalidInputError(f"Column {name!r} expects {kind} values: {detail}.")

    if isinstance(kind, Array | Map | Object):
        return col.map(lambda v: check_value(v, kind, f"Column {name!r}"))
    try:
        if kind in ("double", "float"):
            if col.dtype.kind in "fiub":
                return col.astype(_NUMPY_OF[kind])
            return pd.to_numeric(col, errors="raise").astype(_NUMPY_OF[kind])
        if kind in ("long", "integer"):
            if col.dtype.kind in "iub":
                return col.astype(_NUMPY_OF[kind])
            num = pd.to_numeric(col, errors="raise")
            if num.isna().any():
                raise refuse("got a missing value")
            if num.dtype.kind == "f" and not np.all(np.mod(num.to_numpy(), 1) == 0):
                bad = num[np.mod(num.to_numpy(), 1) != 0].iloc[0]
                raise refuse(f"got {bad!r}, which is not a whole number")
            return num.astype(_NUMPY_OF[kind])
        if kind == "boolean":
            if col.dtype.kind == "b":
                return col
            raise refuse(f"got {col.dtype} values")
        if kind == "datetime":
            return pd.to_datetime(col, errors="raise")
        if kind == "string":
            if col.dtype.kind in "OUS" or str(col.dtype).startswith("str"):
                bad = col[~col.map(lambda v: isinstance(v, str) or v is None)]
                if len(bad):
                    raise refuse(f"got {str(bad.iloc[0])[:40]!r}")
                return col
            raise refuse(f"got {col.dtype} values")
        return col
    except InvalidInputError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise refuse(str(exc)[:120]) from None


def enforce_tensor(data: Any, spec: TensorSpec) -> Any:
    import numpy as np
    import pandas as pd

    arr = data.to_numpy() if isinstance(data, pd.DataFrame | pd.Series) else np.asarray(data)
    try:
        target = np.dtype(spec.dtype)
        if arr.dtype != target:
            if not np.can_cast(arr.dtype, target, casting="same_kind") and arr.dtype.kind not in "iub":
                raise InvalidInputError(f"Input has dtype {arr.dtype} but the model expects {target}.")
            arr = arr.astype(target)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"Input cannot be converted to {spec.dtype}: {exc}") from None
    if arr.ndim == len(spec.shape) - 1 and len(spec.shape) == 2:
        arr = arr.reshape(-1, spec.shape[1]) if spec.shape[1] > 0 else arr.reshape(-1, 1)
    if arr.ndim != len(spec.shape) or any(s not in (-1, a) for s, a in zip(spec.shape, arr.shape, strict=True)):
        raise InvalidInputError(f"Input has shape {arr.shape} but the model expects {tuple(spec.shape)}.")
    return arr


def enforce_tensors(data: Any, specs: TensorSchema) -> dict[str, Any]:
    """Several named tensors: a mapping (or a table's columns) of name -> array,
    each checked against its spec; extra names are dropped, as in MLflow."""
    import pandas as pd

    if isinstance(data, Rows):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        data = {str(c): data[c].to_numpy() for c in data.columns}
    names = [str(s.name) for s in specs]
    if not isinstance(data, dict):
        raise InvalidInputError(
            f"The model expects named tensors {', '.join(map(repr, names))}: pass a mapping of name to array."
        )
    missing = [n for n in names if n not in data]
    if missing:
        raise InvalidInputError(
            f"Input is missing tensor(s) {', '.join(map(repr, missing))}; the model expects {names}."
        )
    out = {}
    for spec, name in zip(specs, names, strict=True):
        try:
            out[name] = enforce_tensor(data[name], spec)
        except InvalidInputError as exc:
            raise InvalidInputError(f"Tensor {name!r}: {exc}") from None
    return out


def enforce(signature: Signature, data: Any) -> Any:
    """Input checked and converted against ``signature``; raises
    :class:`InvalidInputError` naming the first problem."""
    inputs = signature.inputs
    if isinstance(inputs, TensorSpec):
        return enforce_tensor(data, inputs)
    cols = column_specs(inputs)
    if cols is not None:
        return enforce_columns(data, cols)
    assert isinstance(inputs, TensorSchema)
    return enforce_tensors(data, inputs)


def enforce_params(params: ParamSchema | None, given: dict[str, Any] | None) -> dict[str, Any] | None:
    """The params a model receives, as MLflow decides them: without a params
    schema none (given ones are ignored, with a warning); with one, each given
    param checked against its spec, the rest filled with their defaults, and
    names the schema does not know ignored with a warning. Raises
    :class:`InvalidInputError` naming every invalid param."""
    if given is not None and not isinstance(given, dict):
        raise InvalidInputError(f"params must be a mapping of names to values, got {type(given).__name__}.")
    if params is None:
        if given:
            log.warning(
                "params can only be given at inference if the model signature defines a params schema; "
                "this model does not, so these are ignored: %s",
                ", ".join(map(str, given)),
            )
        return None
    given = {str(k): v for k, v in (given or {}).items()}
    known = {p.name for p in params}
    ignored = [k for k in given if k not in known]
    if ignored:
        log.warning(
            "Unrecognized params %s are ignored; the model's params schema defines %s.",
            ", ".join(map(repr, ignored)),
            ", ".join(map(repr, sorted(known))),
        )
    out, problems = {}, []
    for spec in params:
        if spec.name not in given:
            out[spec.name] = spec.check(spec.default)  # as a given value would be: a datetime parsed
            continue
        try:
            out[spec.name] = spec.check(given[spec.name])
        except InvalidInputError as exc:
            problems.append(str(exc))
    if problems:
        raise InvalidInputError("Invalid params: " + " ".join(problems))
    return out
