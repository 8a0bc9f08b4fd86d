"""scikit-learn models as files: ``model.pkl`` (cloudpickle) plus MLflow's
``MLmodel`` with the ``sklearn`` and ``python_function`` flavors."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from gitreg.errors import InvalidInputError
from gitreg.flavors.mlmodel import MLModel, python_env, requirement
from gitreg.signature import Signature

MODEL_FILE = "model.pkl"
SERIALIZATIONS = ("cloudpickle", "pickle")


def save(
    model: Any,
    directory: Path,
    *,
    signature: Signature | None = None,
    input_example: str | None = None,
    serialization_format: str = "cloudpickle",
    metadata: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> MLModel:
    if not hasattr(model, "predict"):
        raise InvalidInputError(f"Expected a fitted scikit-learn estimator with predict(), got {type(model).__name__}.")
    if serialization_format not in SERIALIZATIONS:
        raise InvalidInputError(
            f"serialization_format must be one of {', '.join(SERIALIZATIONS)}, got {serialization_format!r}."
        )
    import cloudpickle
    import sklearn

    with open(directory / MODEL_FILE, "wb") as fh:
        (cloudpickle if serialization_format == "cloudpickle" else pickle).dump(model, fh)
    reqs = [r for r in (requirement(d) for d in ("scikit-learn", "cloudpickle", "numpy", "pandas")) if r]
    (directory / "requirements.txt").write_text("\n".join(reqs) + "\n")
    (directory / "python_env.yaml").write_text(python_env(reqs))
    mlmodel = MLModel(
        flavors={
            "python_function": {
                "loader_module": "mlflow.sklearn",
                "model_path": MODEL_FILE,
                "predict_fn": "predict",
                "env": {"virtualenv": "python_env.yaml"},
                "python_version": __import__("platform").python_version(),
            },
            "sklearn": {
                "pickled_model": MODEL_FILE,
                "serialization_format": serialization_format,
                "sklearn_version": sklearn.__version__,
                "code": None,
            },
        },
        signature=signature,
        input_example=input_example,
        run_id=run_id,
        metadata=metadata or {},
    )
    mlmodel.write(directory)
    return mlmodel


class LoadedEstimator:
    """An estimator behind the flavor-independent predict interface."""

    def __init__(self, estimator: Any) -> None:
        self.raw = estimator
        names = getattr(estimator, "feature_names_in_", None)
        self.input_columns = [str(n) for n in names] if names is not None else None

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if params:
            return self.raw.predict(data, **params)
        return self.raw.predict(data)


def load(directory: Path, mlmodel: MLModel) -> LoadedEstimator:
    conf = mlmodel.flavors.get("sklearn") or {}
    filename = conf.get("pickled_model", MODEL_FILE)
    fmt = conf.get("serialization_format", "cloudpickle")
    if fmt not in SERIALIZATIONS:
        raise InvalidInputError(f"{directory}: sklearn serialization_format {fmt!r} is not supported.")
    path = directory / filename
    if not path.is_file() or path.is_symlink():
        raise InvalidInputError(f"{directory}: the sklearn flavor names {filename!r}, which is not a file.")
    import cloudpickle

    with open(path, "rb") as fh:
        return LoadedEstimator(cloudpickle.load(fh))
