"""How a Python model becomes files and back.

Each flavor module offers ``save(model, directory, ...)`` writing an MLflow-
format directory and ``load(directory, mlmodel, loading)`` returning a
:class:`Loaded` model. :func:`load` dispatches on the flavor name recorded in
the manifest or ``MLmodel`` file; what a load may open and deserialise is
decided in :mod:`gitreg.flavors.loading`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol

from gitreg.errors import InvalidInputError, MissingExtraError
from gitreg.extras import install_hint, require
from gitreg.flavors.loading import SKOPS, Loading, artifact_path, check_pickle_allowed
from gitreg.flavors.mlmodel import MLMODEL, MLModel
from gitreg.flavors.requirements import warn_mismatches


class Loaded(Protocol):
    """A model ready to predict, whatever its flavor."""

    raw: Any  # the estimator or PythonModel itself
    input_columns: list[str] | None  # column names the model itself knows, if any

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...


FLAVORS = ("sklearn", "python_function")
OWN_LOADER = "gitreg.pyfunc"  # the python_function loader_module of gitreg's own PythonModels
MLFLOW_PYTHON_MODEL = "mlflow.pyfunc.model"  # MLflow's loader of its (cloudpickled) PythonModels
THROUGH_MLFLOW = "mlflow"  # the format of a model MLflow loads: gitreg cannot tell what it unpickles


def mlflow_loader(mlmodel: MLModel, flavor: str) -> str | None:
    """The ``loader_module`` MLflow would load this model with, when gitreg
    does not load it itself: a python_function model whose loader is not
    gitreg's (``mlflow.xgboost``, ``mlflow.pyfunc.model``…). None when gitreg loads it."""
    if flavor == "sklearn":
        return None
    loader = (mlmodel.flavors.get("python_function") or {}).get("loader_module")
    return str(loader) if loader not in (None, OWN_LOADER) else None


def serialization_format(mlmodel: MLModel, flavor: str) -> str:
    """How ``flavor`` stores the model, as ``mlmodel`` says: ``skops``,
    ``cloudpickle``, ``pickle``... (python_function models are always
    cloudpickle; a model MLflow loads with another flavor's loader is ``mlflow``)."""
    if flavor == "sklearn":
        from gitreg.flavors.sklearn import serialization_format as sklearn_format

        return sklearn_format(mlmodel)
    loader = mlflow_loader(mlmodel, flavor)
    if loader is not None and loader != MLFLOW_PYTHON_MODEL:
        return THROUGH_MLFLOW
    from gitreg.flavors.python_function import SERIALIZATION

    return SERIALIZATION


def check_allowed(mlmodel: MLModel, flavor: str | None, loading: Loading) -> None:
    """Refuse, before any model file is opened, a model stored in a format ``loading`` refuses.
    A model MLflow loads counts as pickled: what its flavor's loader deserialises is MLflow's choice."""
    flavor = flavor or mlmodel.flavor
    fmt = serialization_format(mlmodel, flavor)
    if fmt == THROUGH_MLFLOW and loading.pickle_refused is not None:
        raise InvalidInputError(
            f"{loading.label} is loaded by MLflow's {mlflow_loader(mlmodel, flavor)}, which may unpickle what "
            f"it reads, and this load refuses pickles ({loading.pickle_refused}). To load it, allow pickles "
            f"for this load, or register the model in a format gitreg loads without pickle: {SKOPS}."
        )
    check_pickle_allowed(fmt, flavor, loading)


def load(directory: Path, loading: Loading, flavor: str | None = None) -> Loaded:
    """Load a saved model directory. What ``loading`` allows (trusted types,
    pickles, which files may be opened) comes from the caller and the
    registry's configuration, never from the directory itself."""
    if (directory / MLMODEL).exists():  # missing: MLModel.read says it is not a saved model
        artifact_path(directory, MLMODEL, f"its {MLMODEL} file", loading)
    mlmodel = MLModel.read(directory)
    flavor = flavor or mlmodel.flavor
    if flavor not in FLAVORS:
        raise InvalidInputError(f"Unknown flavor {flavor!r}; gitreg loads {', '.join(FLAVORS)}.")
    check_allowed(mlmodel, flavor, loading)
    warn_mismatches(directory, loading.label)
    if flavor == "sklearn":
        from gitreg.flavors import sklearn

        return sklearn.load(directory, mlmodel, loading)
    loader = mlflow_loader(mlmodel, flavor)
    if loader is not None:
        return _load_through_mlflow(directory, mlmodel, loader, loading)
    from gitreg.flavors import python_function

    return python_function.load(directory, mlmodel, loading)


def _load_through_mlflow(directory: Path, mlmodel: MLModel, loader: str, loading: Loading) -> Loaded:
    """Hand a model gitreg has no loader for to ``mlflow.pyfunc``, after
    checking that every file its python_function flavor names is one of its
    (verified) artifacts. Without mlflow: :class:`MissingExtraError` naming the extra."""
    for key, rel in mlmodel.named_paths():
        if key.startswith("python_function.") and ".env" not in key:
            artifact_path(directory, rel, f"the MLmodel's {key}", loading, tree=True)
    try:
        with require("mlflow"):
            plugin = importlib.import_module("gitreg.mlflow_plugin.flavor_loader")
    except MissingExtraError as exc:
        others = [f for f in mlmodel.flavors if f != "python_function"]
        raise MissingExtraError(
            f"{loading.label} is a {', '.join(others) or 'python_function'} model (loader {loader}), which "
            f"gitreg loads through MLflow, and mlflow is not installed: {install_hint('mlflow')}.",
            extra="mlflow",
            module=exc.module,
        ) from None
    loaded: Loaded = plugin.load(directory, loader, loading)
    return loaded
