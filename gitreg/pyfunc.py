"""Loading any registered version as a model with ``.predict()``.

``load_model("models:/Name/Production")`` resolves the URI against the
registry, materialises the version into the local cache after checking every
artifact's sha256, loads it with its flavor and wraps it so that ``predict``
accepts a DataFrame, a numpy array, a list of rows, a dict of columns or
:class:`~gitreg.signature.Rows` (a JSON table, as the scoring server reads it) and
enforces the signature stored at registration.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitreg import uri as uris
from gitreg.errors import InvalidInputError
from gitreg.flavors import Loaded
from gitreg.flavors import load as load_flavor
from gitreg.flavors.loading import Loading
from gitreg.flavors.mlmodel import MLModel
from gitreg.flavors.python_function import PythonModel, PythonModelContext
from gitreg.flavors.python_function import save as _save_python
from gitreg.materialize import ModelMetadata
from gitreg.materialize import locate as _locate
from gitreg.materialize import materialized as materialized  # where it used to live
from gitreg.materialize import pickle_refusal as pickle_refusal
from gitreg.materialize import registry_config as registry_config
from gitreg.registry import Registry
from gitreg.saving import ModelInfo
from gitreg.signature import (
    ColSpec,
    Rows,
    Signature,
    column_specs,
    enforce,
    enforce_columns,
    enforce_params,
    rows_as_array,
)

__all__ = ["ModelMetadata", "PyFuncModel", "PythonModel", "PythonModelContext", "load_model", "log_model", "save_model"]


class PyFuncModel:
    """A loaded model: ``predict`` plus the ``metadata`` of the version."""

    def __init__(self, loaded: Loaded, metadata: ModelMetadata) -> None:
        self._loaded = loaded
        self.metadata = metadata
        if metadata.signature is None and loaded.input_columns:
            self._columns: tuple[ColSpec, ...] | None = tuple(ColSpec("any", c) for c in loaded.input_columns)
        else:
            self._columns = None
        self._plain_arrays = metadata.flavor == "sklearn" and loaded.input_columns is None
        # a column signature, for the one-conversion path of JSON rows
        inputs = metadata.signature.inputs if metadata.signature is not None else None
        self._column_inputs = column_specs(inputs)

    def __repr__(self) -> str:
        m = self.metadata
        return f"<PyFuncModel {m.name or m.path} version={m.version} flavor={m.flavor}>"

    def prepare(self, data: Any) -> Any:
        """The input as the model will see it, checked against the signature
        (or the estimator's own column names); raises InvalidInputError."""
        if isinstance(data, Rows):
            cols = self._column_inputs
            array = rows_as_array(data, cols) if cols else None
            if array is None or cols is None:
                data = data.to_frame()
            elif self._plain_arrays:
                return array
            else:
                import pandas as pd

                return pd.DataFrame(array, columns=[c.name for c in cols])
        if self.metadata.signature is not None:
            data = enforce(self.metadata.signature, data)
        elif self._columns is not None:
            data = enforce_columns(data, self._columns)
        elif isinstance(data, list | tuple):
            import numpy as np

            data = np.asarray(data)
        elif isinstance(data, dict):
            from gitreg.signature import to_frame

            data = to_frame(data)
        if self._plain_arrays and hasattr(data, "to_numpy"):
            # fitted on arrays: column names would only make sklearn warn
            data = data.to_numpy()
        return data

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """The model's prediction for ``data``. ``params`` are checked against the
        signature's params schema (defaults filled in) and reach only a model
        whose ``predict`` takes ``params``; without a params schema they are
        ignored with a warning, as MLflow does. Raises InvalidInputError for
        input or params the signature refuses."""
        schema = self.metadata.signature.params if self.metadata.signature is not None else None
        checked = enforce_params(schema, params)
        return self._loaded.predict(self.prepare(data), checked)

    def get_raw_model(self) -> Any:
        """The estimator or PythonModel instance itself."""
        return self._loaded.raw

    unwrap_python_model = get_raw_model


def load_model(
    model_uri: str | os.PathLike[str],
    registry: str | os.PathLike[str] | Registry | None = None,
    *,
    trusted_types: Sequence[str] | None = None,
    require_signed: bool = False,
    allow_pickle: bool | None = None,
    verify: bool = False,
) -> PyFuncModel:
    """Load ``models:/Name/3``, ``models:/Name/Production``, ``models:/Name@alias``,
    ``models:/Name/latest``, ``runs:/<id>/model`` or a local model directory.

    Raises NotFoundError for an unknown model, version or empty stage,
    IntegrityError when stored content differs from its manifest or its
    ``MLmodel`` names a file that is not one of its artifacts (before
    anything is unpickled) and InvalidInputError for a malformed URI, a
    refused format or a model file that does not deserialise.

    ``trusted_types`` (skops-format models only): the types the loader
    allows beyond skops' safe defaults; without it, the registry's
    ``registry.yaml`` ``trusted_types`` list. Never taken from the model.

    ``allow_pickle=False`` refuses pickle-based formats (cloudpickle, pickle,
    joblib; every python_function model) before the model file is read, for
    a registry version before it is even materialised. The registry's
    ``registry.yaml`` ``loading: {allow_pickle: false}`` refuses them for
    every load of its versions and ``allow_pickle=True`` cannot lift that:
    an argument can only make a load stricter. None: the registry decides
    (pickles allowed unless it refuses them).

    ``require_signed``: refuse (IntegrityError) unless git verifies the
    version's tag and, for a stage or alias, its promotion commit
    (:mod:`gitreg.signatures`), before anything is unpickled.

    A cached version is checked by its files' recorded status (size, times,
    inode), every byte having been hashed when it was materialised; any
    change to a file means a full re-hash. ``verify=True`` re-hashes every
    byte anyway (after restoring a cache from a backup, say).
    """
    parsed = uris.parse(os.fspath(model_uri))
    path, meta, loading = _locate(parsed, registry, require_signed, trusted_types, allow_pickle, verify=verify)
    return PyFuncModel(load_flavor(path, loading, meta.flavor), meta)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> Any:
    """MLflow's loader hook: ``mlflow.pyfunc.load_model`` calls this for a
    directory whose ``MLmodel`` names ``loader_module: gitreg.pyfunc`` (what
    :func:`save_model` writes), and wraps what it returns in its own
    ``PyFuncModel``, which enforces the signature and the params schema itself.
    The directory is MLflow's to vouch for: it has no gitreg manifest, so every
    path ``MLmodel`` names need only stay inside it."""
    from gitreg.flavors import python_function

    directory = Path(path)
    return python_function.load(directory, MLModel.read(directory), Loading(str(directory)))


def save_model(
    path: str | os.PathLike[str],
    python_model: PythonModel,
    *,
    artifacts: dict[str, str] | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
) -> MLModel:
    """Save a custom :class:`PythonModel` to a new directory."""
    from gitreg import saving

    if not isinstance(python_model, PythonModel) and not callable(getattr(python_model, "predict", None)):
        raise InvalidInputError("python_model must be a gitreg.pyfunc.PythonModel instance.")
    return saving.save(
        path,
        lambda d, s, e, m: _save_python(python_model, d, artifacts=artifacts, signature=s, input_example=e, metadata=m),
        signature=signature,
        input_example=input_example,
        metrics=metrics,
        params=params,
    )


def log_model(
    artifact_path: str | PythonModel,
    python_model: PythonModel | str | None = None,
    *,
    artifacts: dict[str, str] | None = None,
    registered_model_name: str | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    registry: str | os.PathLike[str] | Registry | None = None,
) -> ModelInfo:
    """Save a custom model into the active run and optionally register it.

    MLflow's order (``log_model("model", python_model=m)``) and the sklearn
    flavor's order (``log_model(m, "model")``) are both accepted.
    """
    from gitreg import saving

    if not isinstance(artifact_path, str):
        artifact_path, python_model = (python_model if isinstance(python_model, str) else "model"), artifact_path
    if python_model is None or isinstance(python_model, str):
        raise InvalidInputError("log_model needs python_model=, an instance of gitreg.pyfunc.PythonModel.")
    model: PythonModel = python_model

    def save_fn(d: Path, s: Signature | None, e: str | None, m: dict[str, Any]) -> MLModel:
        run_id = m.pop("run_id", None)
        return _save_python(model, d, artifacts=artifacts, signature=s, input_example=e, metadata=m, run_id=run_id)

    return saving.log(
        save_fn,
        artifact_path,
        registered_model_name=registered_model_name,
        signature=signature,
        input_example=input_example,
        metrics=metrics,
        params=params,
        tags=tags,
        description=description,
        registry=registry,
    )
