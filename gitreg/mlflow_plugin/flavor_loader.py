"""Loading a model whose flavor gitreg does not implement (xgboost, lightgbm,
pytorch, transformers, an MLflow ``PythonModel``…) through ``mlflow.pyfunc``.

:func:`gitreg.flavors.load` imports this module only when a model needs it and
only after a registry version's every artifact has been checked against its
manifest (the sha256 check of :mod:`gitreg.cache`) and every path its
``python_function`` flavor names has been found to be one of those artifacts.
So MLflow opens and unpickles nothing gitreg has not verified. Importing it
without mlflow installed raises :class:`~gitreg.errors.MissingExtraError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitreg.extras import require
from gitreg.flavors.loading import Loading, deserialise

with require("mlflow"):
    import mlflow.pyfunc


class LoadedThroughMLflow:
    """MLflow's own ``PyFuncModel`` behind gitreg's predict interface. MLflow
    checks its signature and params schema again, as it always does."""

    def __init__(self, model: Any) -> None:
        self.raw = model
        self.input_columns: list[str] | None = None

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.raw.predict(data, params=params)


def load(directory: Path, loader: str, loading: Loading) -> LoadedThroughMLflow:
    """``mlflow.pyfunc.load_model`` on the verified ``directory``; a failure is
    one :class:`~gitreg.errors.InvalidInputError` naming the version and MLflow's reason."""
    model = deserialise(
        f"its {loader} model", loading, lambda: mlflow.pyfunc.load_model(str(directory)), "loaded by MLflow"
    )
    return LoadedThroughMLflow(model)
