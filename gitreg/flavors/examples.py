"""Input examples in MLflow's own format, both ways.

MLflow 3 saves an example as ``input_example.json`` plus, for serving,
``serving_input_example.json``, and describes them in ``MLmodel``'s
``saved_input_example_info``: ``type`` says how to read the JSON back
(``dataframe`` with ``pandas_orient: split``, ``ndarray``, ``json_object``),
so ``mlflow.models.Model.load_input_example`` returns a DataFrame for a
DataFrame example. gitreg writes the same files and the same description,
and reads what MLflow wrote (including an example saved with params, which
MLflow keeps as ``{"inputs": ..., "params": ...}``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitreg.errors import InvalidInputError

EXAMPLE_FILE = "input_example.json"
SERVING_FILE = "serving_input_example.json"


def write_example(directory: Path, example: Any) -> dict[str, Any]:
    """Save ``example`` into ``directory`` as MLflow 3 does and return its
    ``saved_input_example_info``. A dict of columns is saved as the table it
    means (gitreg infers a column signature from it), an array or a list of
    rows as an ``ndarray`` example."""
    import numpy as np
    import pandas as pd

    if isinstance(example, dict):
        example = pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in example.items()})
    info: dict[str, Any] = {"artifact_path": EXAMPLE_FILE}
    if isinstance(example, pd.DataFrame):
        payload: Any = json.loads(example.to_json(orient="split", index=False, date_format="iso"))
        if isinstance(example.columns, pd.RangeIndex) and list(example.columns) == list(range(example.shape[1])):
            del payload["columns"]  # MLflow leaves out a default column index
        info.update(type="dataframe", pandas_orient="split" if "columns" in payload else "values")
        serving: Any = {"dataframe_split": payload}
    else:
        array: Any = np.asarray(example)
        if array.dtype.kind == "f" and np.isnan(array).any():
            array = array.astype(object)
            array[np.isnan(array.astype(float))] = None  # JSON has no NaN; MLflow writes null
        payload = json.loads(json.dumps(array.tolist(), default=str))
        info["type"] = "ndarray"
        serving = {"inputs": payload}
    (directory / EXAMPLE_FILE).write_text(json.dumps(payload))
    (directory / SERVING_FILE).write_text(json.dumps(serving, indent=2))
    info["serving_input_path"] = SERVING_FILE
    return info


def read_example(directory: Path, info: dict[str, Any]) -> Any:
    """The example ``info`` describes, as MLflow reads it: a DataFrame for
    ``dataframe``, a numpy array (or a dict of them) for ``ndarray``, the JSON
    value for ``json_object``. :class:`InvalidInputError` for a file that is
    missing or not JSON, or a type MLflow does not know."""
    name = info.get("artifact_path")
    inside = isinstance(name, str) and name and not name.startswith("/") and ".." not in name.split("/")
    path = directory / str(name)
    if not inside or not path.is_file() or path.is_symlink():
        raise InvalidInputError(f"{directory}: the input example {name!r} is not a file of the model.")
    try:
        raw = json.loads(path.read_text())
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{directory}: the input example {name} is not JSON ({str(exc)[:80]}).") from None
    if info.get("params") and isinstance(raw, dict):
        raw = raw.get("inputs")
    return _parse(raw, info.get("type"), f"{directory}: the input example {name}")


def _parse(raw: Any, kind: object, where: str) -> Any:
    import numpy as np
    import pandas as pd

    if kind == "json_object":
        return raw
    if kind == "dataframe":
        if isinstance(raw, dict) and isinstance(raw.get("data"), list):
            return pd.DataFrame(raw["data"], columns=raw.get("columns"))
        if isinstance(raw, list):
            return pd.DataFrame(raw)
        raise InvalidInputError(f"{where}: a dataframe example needs 'data' (rows) and optionally 'columns'.")
    if kind == "ndarray":
        if isinstance(raw, dict) and set(raw) == {"inputs"}:  # gitreg before MLflow 3's format
            raw = raw["inputs"]
        if isinstance(raw, dict):
            return {str(k): np.asarray(v) for k, v in raw.items()}
        return np.asarray(raw)
    raise InvalidInputError(f"{where}: its type {kind!r} is not one of dataframe, ndarray, json_object.")
