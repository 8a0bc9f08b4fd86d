"""``gitreg.sklearn``: save, log, register and load scikit-learn models,
with the names and arguments of ``mlflow.sklearn``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitreg import saving
from gitreg.flavors import sklearn as _flavor
from gitreg.flavors.mlmodel import MLModel
from gitreg.registry import Registry
from gitreg.saving import ModelInfo
from gitreg.signature import Signature

__all__ = ["load_model", "log_model", "save_model"]


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    *,
    signature: Signature | None = None,
    input_example: Any = None,
    serialization_format: str = "cloudpickle",
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
) -> MLModel:
    """Save ``sk_model`` to a new directory in MLflow's format.
    ``serialization_format``: "cloudpickle" (default), "pickle", or "skops"
    (no pickle; loading constructs only trusted types)."""
    return saving.save(
        path,
        lambda d, s, e, m: _flavor.save(
            sk_model, d, signature=s, input_example=e, serialization_format=serialization_format, metadata=m
        ),
        signature=signature,
        input_example=input_example,
        metrics=metrics,
        params=params,
    )


def log_model(
    sk_model: Any,
    artifact_path: str = "model",
    registered_model_name: str | None = None,
    signature: Signature | None = None,
    input_example: Any = None,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    *,
    serialization_format: str = "cloudpickle",
    registry: str | os.PathLike[str] | Registry | None = None,
) -> ModelInfo:
    """Save ``sk_model`` into the active run; with ``registered_model_name``
    also register it as that model's next version. Without it the model stays
    in the run and ``register_model(info.model_uri, name)`` registers it later."""

    def save_fn(d: Path, s: Signature | None, e: str | None, m: dict[str, Any]) -> MLModel:
        run_id = m.pop("run_id", None)
        return _flavor.save(
            sk_model,
            d,
            signature=s,
            input_example=e,
            serialization_format=serialization_format,
            metadata=m,
            run_id=run_id,
        )

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


def load_model(
    model_uri: str | os.PathLike[str],
    registry: str | os.PathLike[str] | Registry | None = None,
    *,
    trusted_types: Sequence[str] | None = None,
    allow_pickle: bool | None = None,
) -> Any:
    """The scikit-learn estimator itself, verified before unpickling.
    ``trusted_types`` (skops models) and ``allow_pickle`` (False: refuse
    cloudpickle and pickle, load only skops; the registry's ``registry.yaml``
    ``loading: {allow_pickle: false}`` cannot be lifted by True): see
    :func:`gitreg.pyfunc.load_model`."""
    from gitreg.errors import InvalidInputError
    from gitreg.pyfunc import load_model as _load

    model = _load(model_uri, registry, trusted_types=trusted_types, allow_pickle=allow_pickle)
    if model.metadata.flavor != "sklearn":
        raise InvalidInputError(f"{model_uri} is a {model.metadata.flavor} model, not sklearn; use gitreg.pyfunc.")
    return model.get_raw_model()
