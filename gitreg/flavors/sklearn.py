"""scikit-learn models as files: ``model.pkl`` (cloudpickle or pickle) or
``model.skops``, plus MLflow's ``MLmodel`` with the ``sklearn`` and
``python_function`` flavors.

A pickle runs whatever code its writer chose when it is loaded. The skops
format instead records which types it would construct, and loading refuses
any type outside skops' default safe set unless the *loader* trusts it: the
list comes from the caller or the registry's ``registry.yaml``
(``trusted_types``), never from the artifact or its manifest, which are
written by whoever registered the model.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from gitreg.errors import InvalidInputError
from gitreg.extras import require
from gitreg.flavors.loading import Loading, artifact_path, check_pickle_allowed, deserialise, unpickle
from gitreg.flavors.mlmodel import MLModel, python_env, requirement
from gitreg.signature import Signature

MODEL_FILE = "model.pkl"
SKOPS_FILE = "model.skops"
SERIALIZATIONS = ("cloudpickle", "pickle", "skops")


def save(
    model: Any,
    directory: Path,
    *,
    signature: Signature | None = None,
    input_example: str | dict[str, Any] | None = None,
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
    with require("sklearn"):
        import sklearn

    filename = SKOPS_FILE if serialization_format == "skops" else MODEL_FILE
    if serialization_format == "skops":
        _skops().dump(model, directory / filename)
        deps: tuple[str, ...] = ("scikit-learn", "skops", "numpy", "pandas")
    else:
        import cloudpickle

        with open(directory / filename, "wb") as fh:
            (cloudpickle if serialization_format == "cloudpickle" else pickle).dump(model, fh)
        deps = ("scikit-learn", "cloudpickle", "numpy", "pandas")
    reqs = [r for r in (requirement(d) for d in deps) if r]
    (directory / "requirements.txt").write_text("\n".join(reqs) + "\n")
    (directory / "python_env.yaml").write_text(python_env(reqs))
    mlmodel = MLModel(
        flavors={
            "python_function": {
                "loader_module": "mlflow.sklearn",
                "model_path": filename,
                "predict_fn": "predict",
                "env": {"virtualenv": "python_env.yaml"},
                "python_version": __import__("platform").python_version(),
            },
            "sklearn": {
                "pickled_model": filename,
                "serialization_format": serialization_format,
                "sklearn_version": sklearn.__version__,
                "code": None,
            },
        },
        signature=signature,
        **MLModel.example_fields(input_example),
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
        """``params`` never reach the estimator: MLflow's sklearn flavor takes
        them (so a params schema is allowed) and ignores them, and so does this."""
        return self.raw.predict(data)


def _skops() -> Any:
    with require("sklearn"):  # skops comes with it: MLflow 3's default format
        import skops.io
    return skops.io


def serialization_format(mlmodel: MLModel) -> str:
    """How the estimator file is written, as the ``MLmodel`` says (MLflow's default: cloudpickle)."""
    fmt = (mlmodel.flavors.get("sklearn") or {}).get("serialization_format", "cloudpickle")
    return str(fmt)


def load(directory: Path, mlmodel: MLModel, loading: Loading) -> LoadedEstimator:
    """Load the estimator. ``loading.trusted_types`` (skops only) are the fully
    qualified type names the loader allows beyond skops' defaults; a pickle
    format is refused before the file is opened when ``loading`` refuses pickles."""
    conf = mlmodel.flavors.get("sklearn") or {}
    fmt = serialization_format(mlmodel)
    check_pickle_allowed(fmt, "sklearn", loading)
    if fmt not in SERIALIZATIONS:
        raise InvalidInputError(f"{loading.label}: sklearn serialization_format {fmt!r} is not supported.")
    filename = conf.get("pickled_model", SKOPS_FILE if fmt == "skops" else MODEL_FILE)
    path = artifact_path(directory, filename, "the sklearn flavor's pickled_model", loading)
    rel = str(filename)
    if fmt == "skops":
        sio = _skops()
        untrusted = sorted(deserialise(rel, loading, lambda: sio.get_untrusted_types(file=path), "read"))
        refused = [t for t in untrusted if t not in set(loading.trusted_types)]
        if refused:
            raise InvalidInputError(
                f"{loading.label}: {filename} would construct types that are not trusted: {', '.join(refused)}. "
                "If you trust them, list them in trusted_types: in the registry's registry.yaml, or pass "
                "trusted_types=[...] to load_model."
            )
        return LoadedEstimator(deserialise(rel, loading, lambda: sio.load(path, trusted=untrusted), "read"))
    return LoadedEstimator(unpickle(path, rel, loading))
