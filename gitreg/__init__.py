"""gitreg: a model registry whose database is a git repository.

MLflow-shaped: ``gitreg.sklearn.log_model(..., registered_model_name=...)``,
``gitreg.register_model(uri, name)``, ``gitreg.Client()`` and
``gitreg.pyfunc.load_model("models:/Name/Production")`` work as their MLflow
counterparts do, with no server. Heavy modules (numpy, pandas, sklearn) load
only when a model is saved or loaded.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from gitreg.errors import GitregError

if TYPE_CHECKING:
    __version__: str  # the installed distribution's (pyproject.toml), read on first use

    from gitreg.client import Client
    from gitreg.entities import ModelVersion, RegisteredModel
    from gitreg.locate import get_registry, set_registry
    from gitreg.registry import Registry
    from gitreg.registry.modelinfo import ModelInfo, get_model_info
    from gitreg.runs import active_run, end_run, log_metric, log_metrics, log_param, log_params, set_tag, start_run
    from gitreg.signature import Signature

# Names served on first use (PEP 562), so that ``import gitreg`` -- and with it
# ``gitreg --help`` -- does not import the registry, YAML or git layers.
_LAZY = {
    "get_registry": "gitreg.locate",
    "set_registry": "gitreg.locate",
    **{
        name: "gitreg.runs"
        for name in ("active_run", "end_run", "log_metric", "log_metrics", "log_param", "log_params", "set_tag")
    },
    "start_run": "gitreg.runs",
    "get_model_info": "gitreg.registry.modelinfo",
    "ModelInfo": "gitreg.registry.modelinfo",
}

__all__ = [
    "Client",
    "GitregError",
    "ModelInfo",
    "ModelVersion",
    "RegisteredModel",
    "Registry",
    "Signature",
    "__version__",
    "active_run",
    "end_run",
    "get_model_info",
    "get_registry",
    "infer_signature",
    "init",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "register_model",
    "set_registry",
    "set_tag",
    "start_run",
]


def register_model(
    model_uri: str | os.PathLike[str],
    name: str,
    *,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    registry: Any = None,
    **_: Any,
) -> ModelVersion:
    """Register the model at ``model_uri`` (``runs:/<id>/model``, a saved model
    directory, a pickle file or ``models:/...``) as the next version of
    ``name``, creating the registered model if needed."""
    from gitreg.saving import register

    return register(model_uri, name, tags=tags, description=description, registry=registry)


def init(path: str | os.PathLike[str], *, bare: bool = False) -> Registry:
    """Create a new registry at ``path``."""
    from gitreg.registry import Registry

    return Registry.init(path, bare=bare)


def infer_signature(model_input: Any, model_output: Any = None) -> Signature:
    from gitreg.signature import infer_signature as infer

    return infer(model_input, model_output)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # read here, not at import: importlib.metadata alone costs gitreg --help ~40 ms
        from importlib.metadata import PackageNotFoundError, version

        from gitreg.extras import DISTRIBUTION

        try:
            found = version(DISTRIBUTION)
        except PackageNotFoundError:  # imported from a source tree that was never installed
            found = "0+unknown"
        globals()["__version__"] = found
        return found
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in ("Client", "MlflowClient"):
        from gitreg.client import Client

        return Client
    if name in ("ModelVersion", "RegisteredModel"):
        from gitreg import entities

        return getattr(entities, name)
    if name == "Registry":
        from gitreg.registry import Registry

        return Registry
    if name == "Signature":
        from gitreg.signature import Signature

        return Signature
    if name in ("sklearn", "pyfunc"):
        import importlib

        return importlib.import_module(f"gitreg.{name}")
    raise AttributeError(f"module 'gitreg' has no attribute {name!r}")
