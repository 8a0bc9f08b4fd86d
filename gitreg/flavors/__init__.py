"""How a Python model becomes files and back.

Each flavor module offers ``save(model, directory, ...)`` writing an MLflow-
format directory and ``load(directory, mlmodel)`` returning a
:class:`Loaded` model. :func:`load` dispatches on the flavor name recorded in
the manifest or ``MLmodel`` file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from gitreg.errors import InvalidInputError
from gitreg.flavors.mlmodel import MLModel


class Loaded(Protocol):
    """A model ready to predict, whatever its flavor."""

    raw: Any  # the estimator or PythonModel itself
    input_columns: list[str] | None  # column names the model itself knows, if any

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...


FLAVORS = ("sklearn", "python_function")


def load(directory: Path, flavor: str | None = None, trusted_types: Sequence[str] = ()) -> Loaded:
    """Load a saved model directory. ``trusted_types`` come from the caller
    or the registry's configuration, never from the directory itself."""
    mlmodel = MLModel.read(directory)
    flavor = flavor or mlmodel.flavor
    if flavor == "sklearn":
        from gitreg.flavors import sklearn

        return sklearn.load(directory, mlmodel, trusted_types)
    if flavor == "python_function":
        from gitreg.flavors import python_function

        return python_function.load(directory, mlmodel)
    raise InvalidInputError(f"Unknown flavor {flavor!r}; gitreg loads {', '.join(FLAVORS)}.")
