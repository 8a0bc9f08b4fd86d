"""Model signatures: what input a model expects, inferred at registration
and enforced at prediction.

Stored in MLflow's vocabulary (column types ``boolean``, ``integer``,
``long``, ``float``, ``double``, ``string``, ``binary``, ``datetime``;
tensor specs with a numpy dtype and a shape where ``-1`` is any size) so an
MLflow user reads them without translation. numpy and pandas are imported
only when a signature is inferred or enforced, never to read a manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gitreg.errors import InvalidInputError

COLUMN_TYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime")
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
class ColSpec:
    type: str
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            d["name"] = self.name
        if not self.required:
            d["required"] = False
        return d


@dataclass(frozen=True)
class TensorSpec:
    dtype: str
    shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "tensor", "tensor-spec": {"dtype": self.dtype, "shape": list(self.shape)}}


Schema = tuple[ColSpec, ...] | TensorSpec


@dataclass(frozen=True)
class Signature:
    inputs: Schema
    outputs: Schema | None = None

    @property
    def column_names(self) -> list[str] | None:
        if isinstance(self.inputs, TensorSpec):
            return None
        names = [c.name for c in self.inputs]
        return [n for n in names if n is not None] if all(n is not None for n in names) else None

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": _schema_to_list(self.inputs), "outputs": _schema_to_list(self.outputs)}

    def to_mlflow(self) -> dict[str, Any]:
        """The MLmodel form: each schema as a JSON string, as MLflow writes it."""
        return {
            "inputs": json.dumps(_schema_to_list(self.inputs)),
            "outputs": json.dumps(_schema_to_list(self.outputs)) if self.outputs is not None else None,
            "params": None,
        }

    @classmethod
    def from_dict(cls, data: object, where: str = "signature") -> Signature:
        """Read either gitreg's form (lists) or MLflow's (JSON strings)."""
        if not isinstance(data, dict) or "inputs" not in data:
            raise InvalidInputError(f"{where}: expected a mapping with 'inputs'.")
        inputs = _schema_from(data["inputs"], f"{where}.inputs")
        if inputs is None:
            raise InvalidInputError(f"{where}.inputs: must not be empty.")
        return cls(inputs, _schema_from(data.get("outputs"), f"{where}.outputs"))


def _schema_to_list(schema: Schema | None) -> list[dict[str, Any]] | None:
    if schema is None:
        return None
    if isinstance(schema, TensorSpec):
        return [schema.to_dict()]
    return [c.to_dict() for c in schema]


def _schema_from(raw: object, where: str) -> Schema | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{where}: not valid JSON ({exc.msg}).") from None
        except (ValueError, RecursionError):  # an integer of thousands of digits; nesting deeper than Python recurses
            raise InvalidInputError(f"{where}: JSON too large or too deeply nested to be a schema.") from None
    if not isinstance(raw, list) or not raw:
        raise InvalidInputError(f"{where}: expected a non-empty list of column or tensor specs.")
    if all(isinstance(s, dict) and s.get("type") == "tensor" for s in raw):
        spec = raw[0].get("tensor-spec")
        shape = spec.get("shape") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or not isinstance(spec.get("dtype"), str) or not isinstance(shape, list):
            raise InvalidInputError(f"{where}: tensor spec needs 'dtype' (text) and 'shape' (a list).")
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= -1 for n in shape):
            raise InvalidInputError(f"{where}: tensor shape must be a list of sizes (-1 for any), got {shape!r:.60}.")
        return TensorSpec(spec["dtype"], tuple(shape))
    cols = []
    for i, s in enumerate(raw):
        if not isinstance(s, dict) or s.get("type") not in COLUMN_TYPES:
            raise InvalidInputError(f"{where}[{i}]: type must be one of {', '.join(COLUMN_TYPES)}.")
        name, required = s.get("name"), s.get("required", True)
        if name is not None and not isinstance(name, str):
            raise InvalidInputError(f"{where}[{i}]: column name must be a string.")
        if not isinstance(required, bool):
            raise InvalidInputError(f"{where}[{i}]: 'required' must be true or false.")
        cols.append(ColSpec(s["type"], name, required))
    return tuple(cols)


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
    kinds = _NUMERIC_KINDS.get(kind)
    if kinds is None or not data.data:
        return None
    position = {name: i for i, name in enumerate(data.columns)}
    picks = []
    for c in cols:
        if c.type != kind or c.name not in position:
            return None
        picks.append(position[c.name])
    try:
        array = np.array(data.data)
    except (ValueError, TypeError, OverflowError):
        return None
    if array.ndim != 2 or array.dtype.kind not in kinds:  # strings, None, nested lists: object or str
        return None
    if picks != list(range(array.shape[1])):
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
        out[name] = _convert(frame[name], spec.type, name)
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


def _convert(col: Any, kind: str, name: str) -> Any:
    import numpy as np
    import pandas as pd

    def refuse(detail: str) -> InvalidInputError:
        return InvalidInputError(f"Column {name!r} expects {kind} values: {detail}.")

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


def enforce(signature: Signature, data: Any) -> Any:
    """Input checked and converted against ``signature``; raises
    :class:`InvalidInputError` naming the first problem."""
    if isinstance(signature.inputs, TensorSpec):
        return enforce_tensor(data, signature.inputs)
    return enforce_columns(data, signature.inputs)
