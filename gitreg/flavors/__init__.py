"""How a Python model becomes files and back.

Each flavor module offers ``save(model, directory, ...)`` writing an MLflow-
format directory and ``load(directory, mlmodel, loading)`` returning a
:class:`Loaded` model. :func:`load` dispatches on the flavor name recorded in
the manifest or ``MLmodel`` file; what a load may open and deserialise is
decided in :mod:`gitreg.flavors.loading`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from gitreg.errors import InvalidInputError
from gitreg.flavors.loading import Loading, artifact_path, check_pickle_allowed
from gitreg.flavors.mlmodel import MLMODEL, MLModel


class Loaded(Protocol):
    """A model ready to predict, whatever its flavor."""

    raw: Any  # the estimator or PythonModel itself
    input_columns: list[str] | None  # column names the model itself knows, if any

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...


FLAVORS = ("sklearn", "python_function")


def serialization_format(mlmodel: MLModel, flavor: str) -> str:
    """How ``flavor`` stores the model, as ``mlmodel`` says: ``skops``,
    ``cloudpickle``, ``pickle``... (python_function models are always cloudpickle)."""
    if flavor == "sklearn":
        from gitreg.flavors.sklearn import serialization_format as sklearn_format

        return sklearn_format(mlmodel)
    from gitreg.flavors.python_function import SERIALIZATION

    return SERIALIZATION


def check_allowed(mlmodel: MLModel, flavor: str | None, loading: Loading) -> None:
    """Refuse, before any model file is opened, a model stored in a format ``loading`` refuses."""
    flavor = flavor or mlmodel.flavor
    check_pickle_allowed(serialization_format(mlmodel, flavor), flavor, loading)


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
    if flavor == "sklearn":
        from gitreg.flavors import sklearn

        return sklearn.load(directory, mlmodel, loading)
    from gitreg.flavors import python_function

    return python_function.load(directory, mlmodel, loading)
