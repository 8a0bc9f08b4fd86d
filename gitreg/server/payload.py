"""Request bodies in, prediction bodies out: the wire format of ``/invocations``.

The accepted forms are MLflow's, so that clients written against an MLflow
scoring server work unchanged:

* ``application/json`` with an object holding exactly one of
  ``dataframe_split``, ``dataframe_records``, ``instances`` or ``inputs``
  (plus optional ``params``); answered with ``{"predictions": ...}``.
* ``application/json; format=pandas-split`` / ``format=pandas-records``: the
  bare MLflow 1.x bodies; answered with a bare JSON list, as MLflow 1.x did.
* ``text/csv``: a CSV table with a header row.

It differs from MLflow where MLflow misbehaves: every refusal is an
:class:`~gitreg.errors.InvalidInputError` (or :class:`UnsupportedMediaType`)
whose message quotes at most a short excerpt of the body, never the body
itself (MLflow echoes multi-megabyte bodies back), and predictions are always
valid JSON (NaN and infinities become ``null``, datetimes ISO 8601 strings).

This module knows nothing about HTTP frameworks so that it can be tested and
reused without one; the Falcon resources call it.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from typing import Any

from gitreg.extras import require

with require("serve"):
    import numpy as np
    import pandas as pd

from gitreg.errors import GitregError, InvalidInputError
from gitreg.signature import Rows

__all__ = [
    "ParsedRequest",
    "UnsupportedMediaType",
    "dumps_json",
    "dumps_predictions",
    "excerpt",
    "parse_request",
    "read_json",
]

JSON = "application/json"
CSV = "text/csv"
_ACCEPTED = f"{JSON} (optionally with format=pandas-split or format=pandas-records), {CSV}"
_INPUT_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_INPUT_KEYS_TEXT = ", ".join(repr(k) for k in _INPUT_KEYS)
_SPLIT_KEYS = frozenset(("columns", "data", "index"))
_SPLIT_SHAPE = '{"columns": [...], "data": [[...], ...]}'
_UTF8 = frozenset(("utf-8", "utf8"))

# Exceptions pandas/numpy raise when handed data they cannot shape into a table
# or an array. Anything built from a request body that fails with one of these
# is the client's fault, hence a 400 and not a 500.
_BUILD_ERRORS = (ValueError, TypeError, OverflowError, LookupError, RecursionError, pd.errors.InvalidIndexError)

# One decoder for every request: ``json.loads(..., parse_constant=...)`` would
# build a new one per call. NaN/Infinity/-Infinity are accepted as MLflow does.
_DECODER = json.JSONDecoder(parse_constant=float)


class UnsupportedMediaType(InvalidInputError):
    """The Content-Type (media type, ``charset`` or ``format``) is not one we read.

    A subclass of :class:`InvalidInputError` so that callers that only know
    about bad input still refuse it.
    """

    http_status = 415


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """What a request body asks the model to do.

    ``legacy`` records that the body came in MLflow 1.x form, whose clients
    expect a bare JSON list back rather than ``{"predictions": ...}``.
    """

    data: pd.DataFrame | Rows | np.ndarray | dict | list
    params: dict | None
    legacy: bool


# --------------------------------------------------------------------- excerpts


def excerpt(body: bytes | str, limit: int = 80) -> str:
    """Return at most ``limit`` printable characters of ``body`` for an error message.

    Error messages travel back to the client and into logs, so they must stay
    short whatever was sent: only the head of ``body`` is looked at, bytes that
    are not UTF-8 appear as ``\\xNN`` and non-printable characters are escaped
    as ``repr`` would. A truncated excerpt ends with ``...`` and the full size.
    """
    if isinstance(body, str):
        total, unit = len(body), "chars"
        head = body[: limit + 1]
    else:
        total, unit = len(body), "bytes"
        head = bytes(body[: limit + 1]).decode("utf-8", errors="backslashreplace")
    if not head.isprintable():
        head = "".join(c if c.isprintable() else repr(c)[1:-1] for c in head)
    if len(head) <= limit and total <= limit:
        return head
    return f"{head[:limit]}... ({total} {unit})"


def _around(text: str, pos: int) -> str:
    """A short excerpt of ``text`` centred on ``pos``, for pointing at an error."""
    return excerpt(text[max(pos - 30, 0) : pos + 30], 60)


def _describe(exc: BaseException) -> str:
    """An exception's message, capped: pandas/numpy messages may embed data."""
    return excerpt(str(exc) or type(exc).__name__, 160)


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for 'expected X, got Y' messages."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _name_keys(keys: list[str], most: int = 3) -> str:
    """Quote a few keys (each shortened); a body may carry millions of them."""
    named = ", ".join(f"'{excerpt(k, 24)}'" for k in keys[:most])
    if len(keys) > most:
        named += f" and {len(keys) - most} more"
    return named


# ---------------------------------------------------------------- content type


def _parse_content_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type header into a lower-cased media type and parameters.

    Parameter names are lower-cased, values unquoted but otherwise left alone;
    malformed parameters (no ``=``) are ignored as HTTP allows. A missing or
    empty media type reads as JSON.
    """
    if not content_type:
        return JSON, {}
    media_type, *rest = content_type.split(";")
    params: dict[str, str] = {}
    for item in rest:
        name, sep, value = item.partition("=")
        if sep:
            params[name.strip().lower()] = value.strip().strip('"')
    return media_type.strip().lower() or JSON, params


# ---------------------------------------------------------------- request body


def parse_request(body: bytes, content_type: str | None) -> ParsedRequest:
    """Turn an ``/invocations`` body into the input ``model.predict`` receives.

    ``content_type`` is the raw header value. A missing Content-Type is read as
    JSON, since that is what almost every client means. Raises
    :class:`UnsupportedMediaType` for a media type, ``charset`` or ``format``
    we do not read, and :class:`~gitreg.errors.InvalidInputError` for a body
    that is not UTF-8, not well-formed, or not in one of the accepted shapes.
    Nothing else escapes, whatever the body.
    """
    media_type, ct_params = _parse_content_type(content_type)
    charset = ct_params.get("charset")
    if charset is not None and charset.lower() not in _UTF8:
        raise UnsupportedMediaType(f"charset {excerpt(charset, 40)} not supported; send UTF-8")
    if media_type not in (JSON, CSV):
        raise UnsupportedMediaType(f"unsupported Content-Type '{excerpt(media_type, 60)}'; send one of: {_ACCEPTED}")
    fmt = ct_params.get("format")
    if media_type == JSON and fmt is not None:
        fmt = fmt.lower()
        if fmt not in ("pandas-split", "pandas-records"):
            raise UnsupportedMediaType(f"unsupported format={excerpt(fmt, 40)} for {JSON}; send one of: {_ACCEPTED}")

    text = _decode(body)
    if media_type == CSV:
        return ParsedRequest(_read_csv(text), None, False)
    doc = _load_json(text)
    if fmt == "pandas-split":
        return ParsedRequest(_split_table(doc, "a format=pandas-split body"), None, True)
    if fmt == "pandas-records":
        return ParsedRequest(_records_frame(doc, "a format=pandas-records body"), None, True)
    return _parse_modern(doc)


def read_json(body: bytes) -> Any:
    """A UTF-8 JSON body decoded, refused as :func:`parse_request` refuses one
    (:class:`~gitreg.errors.InvalidInputError` pointing at the problem)."""
    return _load_json(_decode(body))


def _decode(body: bytes | str) -> str:
    """Decode the body as UTF-8, dropping a byte-order mark some tools prepend."""
    if isinstance(body, str):
        text = body
    else:
        try:
            text = str(body, "utf-8")
        except UnicodeDecodeError as exc:
            near = excerpt(bytes(body[max(exc.start - 20, 0) : exc.start + 20]), 60)
            raise InvalidInputError(
                f"body is not valid UTF-8 ({exc.reason} at byte {exc.start}, near '{near}'); send UTF-8"
            ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _read_csv(text: str) -> pd.DataFrame:
    """Read a CSV body with a header row; any pandas refusal is the client's error."""
    try:
        return pd.read_csv(StringIO(text))
    except _BUILD_ERRORS as exc:  # ParserError and EmptyDataError are ValueErrors
        raise InvalidInputError(f"malformed CSV: {_describe(exc)} (body starts '{excerpt(text, 60)}')") from None


def _load_json(text: str) -> Any:
    """Decode JSON, pointing at the line and column of a syntax error."""
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg} (near '{_around(text, exc.pos)}')"
        ) from None
    except RecursionError:
        raise InvalidInputError("malformed JSON: too deeply nested") from None
    except ValueError as exc:  # e.g. an integer over Python's 4300-digit conversion limit
        raise InvalidInputError(f"malformed JSON: {_describe(exc)}") from None


def _parse_modern(doc: Any) -> ParsedRequest:
    """Read the MLflow 2 body: an object with exactly one input key and optional params."""
    if not isinstance(doc, dict):
        hint = ""
        if isinstance(doc, list):
            hint = f"; for a bare records list send Content-Type: {JSON}; format=pandas-records"
        raise InvalidInputError(
            f"expected a JSON object with one of the keys {_INPUT_KEYS_TEXT}; got a JSON {json_type(doc)}{hint}"
        )
    found = [k for k in _INPUT_KEYS if k in doc]
    if len(found) != 1:
        if found:
            raise InvalidInputError(
                f"the JSON object must have exactly one of the keys {_INPUT_KEYS_TEXT}; "
                f"found several: {_name_keys(found)}"
            )
        msg = f"the JSON object must have one of the keys {_INPUT_KEYS_TEXT}"
        others = [k for k in doc if k != "params"]
        if others:
            msg += f"; found only {_name_keys(others)}"
        if "data" in doc and "columns" in doc:
            msg += (
                f'; wrap it as {{"dataframe_split": ...}} or send Content-Type: {JSON}; format=pandas-split'
                " for the MLflow 1.x form"
            )
        raise InvalidInputError(msg)
    key = found[0]
    if len(doc) > 1 + ("params" in doc):
        unknown = [k for k in doc if k != key and k != "params"]
        raise InvalidInputError(f"unknown keys next to '{key}': {_name_keys(unknown)}; only 'params' may accompany it")
    params = doc.get("params")
    if params is not None and not isinstance(params, dict):
        raise InvalidInputError(f"'params' must be a JSON object; got a JSON {json_type(params)}")
    value = doc[key]
    if key == "dataframe_split":
        data = _split_table(value, "'dataframe_split'")
    elif key == "dataframe_records":
        data = _records_frame(value, "'dataframe_records'")
    else:
        data = _tensor_input(value, f"'{key}'")
    return ParsedRequest(data, params, False)


def _build(factory: Callable[[], Any], what: str) -> Any:
    """Run a pandas/numpy constructor on client data, turning its refusals into ours."""
    try:
        return factory()
    except _BUILD_ERRORS as exc:
        raise InvalidInputError(f"cannot build {what}: {_describe(exc)}") from None


def _split_table(value: Any, where: str) -> pd.DataFrame | Rows:
    """Read pandas' ``split`` orientation (columns optional, as in MLflow).

    Plain rows under unique column names stay lists (:class:`Rows`): most
    requests are that, and the model can often skip pandas altogether.
    Anything else (an index, unnamed or repeated columns) becomes a DataFrame.
    """
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where} must be a JSON object like {_SPLIT_SHAPE}; got a JSON {json_type(value)}")
    if value.keys() - _SPLIT_KEYS:
        unknown = [k for k in value if k not in _SPLIT_KEYS]
        raise InvalidInputError(
            f"{where} has unknown keys {_name_keys(unknown)}; expected only 'columns', 'data' and 'index'"
        )
    if "data" not in value:
        raise InvalidInputError(f"{where} lacks 'data'; expected a JSON object like {_SPLIT_SHAPE}")
    data = value["data"]
    columns = value.get("columns")
    index = value.get("index")
    for name, part in (("data", data), ("columns", columns), ("index", index)):
        if part is not None and not isinstance(part, list):
            raise InvalidInputError(f"'{name}' in {where} must be a JSON array; got a JSON {json_type(part)}")
    if data is None:
        raise InvalidInputError(f"'data' in {where} must be a JSON array of rows; got a JSON null")
    if data and type(data[0]) is list:
        # pandas pads short rows with NaN (deprecated, to raise in pandas 4); a
        # short row is almost always a client bug, so refuse it now. map() keeps
        # the check at C speed for large bodies.
        if set(map(type, data)) != {list}:
            raise InvalidInputError(f"'data' in {where} mixes rows (arrays) with other values")
        widths = set(map(len, data))
        if len(widths) > 1:
            raise InvalidInputError(
                f"rows of 'data' in {where} have different lengths ({min(widths)} to {max(widths)}); "
                "every row needs one value per column"
            )
        if (
            index is None
            and columns is not None
            and widths == {len(columns)}
            and all(type(c) is str for c in columns)
            and len(set(columns)) == len(columns)
        ):
            return Rows(tuple(columns), data)  # the model decides whether it needs a DataFrame
    return _build(lambda: pd.DataFrame(data=data, columns=columns, index=index), f"a DataFrame from {where}")


def _records_frame(value: Any, where: str) -> pd.DataFrame:
    """Build a DataFrame from a list of ``{column: value}`` records."""
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        got = json_type(value) if not isinstance(value, list) else "array with non-object items"
        raise InvalidInputError(f'{where} must be a JSON array of objects like [{{"x": 1}}, ...]; got a JSON {got}')
    return _build(lambda: pd.DataFrame(value), f"a DataFrame from {where}")


def _tensor_input(value: Any, where: str) -> pd.DataFrame | np.ndarray | dict:
    """Read ``instances``/``inputs``: columnar object, list of records, or a (nested) array."""
    if isinstance(value, dict):
        columns = value.values()
        if value and all(isinstance(c, list) for c in columns) and len({len(c) for c in columns}) == 1:
            return _build(lambda: pd.DataFrame(value), f"a DataFrame from {where}")
        return value
    if not isinstance(value, list):
        raise InvalidInputError(f"{where} must be a JSON array or object; got a JSON {json_type(value)}")
    n_records = sum(isinstance(item, dict) for item in value)
    if n_records:
        if n_records != len(value):
            raise InvalidInputError(f"{where} mixes objects with other values; send either all records or none")
        return _build(lambda: pd.DataFrame(value), f"a DataFrame from {where}")
    try:
        array = np.asarray(value)
    except _BUILD_ERRORS as exc:
        if "inhomogeneous" in str(exc):
            raise InvalidInputError(
                f"ragged nested arrays in {where}: every row must have the same length ({_describe(exc)})"
            ) from None
        raise InvalidInputError(f"cannot build an array from {where}: {_describe(exc)}") from None
    if array.dtype == object and any(isinstance(item, list) for item in array.flat):
        raise InvalidInputError(f"ragged nested arrays in {where}: every row must have the same length")
    return array


# ------------------------------------------------------------------ responses


def dumps_predictions(predictions: Any, legacy: bool) -> bytes:
    """Encode a model's output as the UTF-8 JSON body of the response.

    ``legacy`` answers MLflow 1.x clients with the bare value; everyone else
    gets ``{"predictions": value}``. The output is always strict JSON: NaN and
    infinities become ``null``, datetimes ISO 8601 strings, bytes base64.
    Arrays are converted whole with ``tolist`` and the common case (no
    non-finite floats hidden in Python containers) is encoded in one pass by
    the C encoder; only when that pass meets a NaN is the value walked.
    Many single-digit labels skip the encoder altogether (:func:`_digit_labels`).
    Raises :class:`~gitreg.errors.GitregError` for output JSON cannot carry.
    """
    if isinstance(predictions, np.ndarray):
        labels = _digit_labels(predictions)
        if labels is not None:
            return labels if legacy else b'{"predictions": ' + labels + b"}"
    try:
        value = _prepare(predictions)
    except (ValueError, TypeError, RecursionError) as exc:
        raise GitregError(f"the model's predictions cannot be encoded as JSON: {_describe(exc)}") from None
    return dumps_json(value if legacy else {"predictions": value})


_LABELS_FROM = 32  # values; measured break-even with tolist + json.dumps: about 25


def _digit_labels(array: np.ndarray) -> bytes | None:
    """A 1-D integer array of values 0 to 9 (a classifier's labels, mostly) as
    the JSON text ``json.dumps`` writes for its list, byte for byte, built by
    numpy at a tenth of the encoder's cost; None for any other array.

    Each value is one digit, so the text is a fixed pattern: digit, comma,
    space, repeated. Below :data:`_LABELS_FROM` values the encoder is as quick.
    """
    if array.ndim != 1 or array.dtype.kind not in "iu" or array.size < _LABELS_FROM:
        return None
    if array.min() < 0 or array.max() > 9:
        return None
    text = np.empty(3 * array.size, dtype=np.uint8)
    text[0::3] = array + ord("0")
    text[1::3] = ord(",")
    text[2::3] = ord(" ")
    return b"[" + text[:-2].tobytes() + b"]"


def dumps_json(doc: Any) -> bytes:
    """``doc`` as a strict JSON body with the rules of :func:`dumps_predictions`
    (arrays and pandas objects anywhere inside it included); raises
    :class:`~gitreg.errors.GitregError` for values JSON cannot carry."""
    try:
        try:
            text = json.dumps(doc, default=_default, allow_nan=False)
        except (ValueError, TypeError):
            # A non-finite float or an odd dict key inside plain Python containers.
            text = json.dumps(_sanitize(doc), default=_default, allow_nan=False)
    except (ValueError, TypeError, RecursionError) as exc:
        raise GitregError(f"the model's predictions cannot be encoded as JSON: {_describe(exc)}") from None
    return text.encode("ascii")  # ensure_ascii=True: the text is pure ASCII, hence UTF-8


def _prepare(value: Any) -> Any:
    """Turn arrays and pandas objects into Python lists; leave everything else."""
    if isinstance(value, np.ndarray):
        return _array_to_list(value)
    if isinstance(value, pd.DataFrame):
        return _frame_to_records(value)
    if isinstance(value, pd.Series | pd.Index):
        return _array_to_list(_values(value))
    return value


def _values(values: pd.Series | pd.Index) -> np.ndarray:
    """The values of a Series as numpy, keeping nullable integers integers.

    Extension dtypes (nullable ints, strings, tz-aware datetimes, categoricals)
    go through ``object`` with missing values as None; a plain ``to_numpy``
    would turn ``Int64`` with a missing value into floats.
    """
    if isinstance(values.dtype, np.dtype):
        return values.to_numpy()
    return values.to_numpy(dtype=object, na_value=None)


def _frame_to_records(frame: pd.DataFrame) -> list[dict]:
    """A DataFrame as a list of records, converting column by column (vectorised)."""
    names = [name if isinstance(name, str) else _key(name) for name in frame.columns]
    columns = [_array_to_list(_values(frame.iloc[:, i])) for i in range(frame.shape[1])]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


_SECOND = {"ms": 10**3, "us": 10**6, "ns": 10**9}


def _array_to_list(array: np.ndarray) -> Any:
    """``array.tolist()`` with NaN/Inf as None and datetimes as ISO 8601 strings."""
    kind = array.dtype.kind
    if kind == "f":
        finite = np.isfinite(array)
        if finite.all():
            return array.tolist()
        out = array.astype(object)
        out[~finite] = None
        return out.tolist()
    if kind == "M":
        nat = np.isnat(array)
        unit, count = np.datetime_data(array.dtype)
        per_second = _SECOND.get(unit) if count == 1 else None
        # whole seconds print as '2024-01-01T00:00:00', as Timestamp.isoformat() writes
        # them; otherwise the array's own unit, so nothing is lost
        whole = bool(per_second) and not (array[~nat].view("i8") % per_second).any()
        strings = np.asarray(np.datetime_as_string(array, unit="s" if whole else None))
        if nat.any():
            strings = strings.astype(object)
            strings[nat] = None
        return strings.tolist()
    if kind == "m":
        out = np.empty(array.shape, dtype=object)
        for i, delta in np.ndenumerate(array):
            out[i] = None if np.isnat(delta) else pd.Timedelta(delta).isoformat()
        return out.tolist()
    if kind == "c":
        raise TypeError(f"complex values (dtype {array.dtype}) have no JSON form")
    # bool, int, str, bytes (base64 via _default), object (elements via _default/_sanitize)
    return array.tolist()


def _default(obj: Any) -> Any:
    """``json.dumps`` hook for the values the stdlib encoder does not know."""
    if isinstance(obj, np.generic):
        if isinstance(obj, np.floating):
            return float(obj) if np.isfinite(obj) else None
        if isinstance(obj, np.datetime64 | np.timedelta64 | np.complexfloating):
            return _array_to_list(np.asarray(obj))
        return obj.item()  # integer, bool, bytes, void
    if obj is pd.NaT or obj is pd.NA:
        return None
    if isinstance(obj, datetime.date | datetime.time):  # includes datetime and pd.Timestamp
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):  # includes pd.Timedelta
        return pd.Timedelta(obj).isoformat()
    if isinstance(obj, bytes | bytearray | memoryview):
        return base64.b64encode(obj).decode("ascii")
    if isinstance(obj, np.ndarray | pd.DataFrame | pd.Series | pd.Index):
        return _prepare(obj)
    if isinstance(obj, set | frozenset):
        return list(obj)
    if isinstance(obj, decimal.Decimal):
        return float(obj) if obj.is_finite() else None
    raise TypeError(f"values of type {type(obj).__name__} have no JSON form")


def _key(key: Any) -> Any:
    """A dict key JSON accepts: str, int, finite float, bool or None stay; others become strings."""
    if isinstance(key, float):
        return key if math.isfinite(key) else None  # JSON has no NaN key either: "null"
    if key is None or isinstance(key, str | int):
        return key
    try:
        converted = _default(key)
    except (TypeError, ValueError):
        return str(key)
    return converted if converted is None or isinstance(converted, str | int) else _key(converted)


def _sanitize(value: Any) -> Any:
    """Walk plain containers replacing non-finite floats by None and odd keys by strings.

    Only reached when the fast encoding pass failed, so its per-element cost is
    paid only by outputs that need it.
    """
    if isinstance(value, float):  # includes np.float64
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_key(k): _sanitize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_sanitize(v) for v in value]
    if isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.ndarray | pd.DataFrame | pd.Series | pd.Index):
        return _sanitize(_prepare(value))
    return value
