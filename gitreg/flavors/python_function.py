"""Custom Python models (``gitreg.pyfunc.PythonModel`` subclasses) as files:
``python_model.pkl`` (cloudpickle), optional artifacts, and ``MLmodel``."""

from __future__ import annotations

import inspect
import logging
import shutil
from pathlib import Path
from typing import Any

from gitreg.errors import InvalidInputError
from gitreg.flavors.loading import Loading, artifact_path, check_pickle_allowed, unpickle
from gitreg.flavors.mlmodel import MLModel, python_artifact, python_env, requirement
from gitreg.signature import Signature

MODEL_FILE = "python_model.pkl"
SERIALIZATION = "cloudpickle"  # the python_model is always a cloudpickle
ARTIFACTS_DIR = "artifacts"
log = logging.getLogger("gitreg")


class PythonModel:
    """Base class for custom models, as MLflow's ``mlflow.pyfunc.PythonModel``.

    Override ``predict(self, context, model_input, params=None)``; optionally
    ``load_context(self, context)`` to load ``context.artifacts`` once.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once after loading, before the first ``predict``."""

    def predict(self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError


class PythonModelContext:
    """What ``load_context`` and ``predict`` receive: local paths of artifacts."""

    def __init__(self, artifacts: dict[str, str]) -> None:
        self.artifacts = artifacts


def save(
    python_model: Any,
    directory: Path,
    *,
    artifacts: dict[str, str] | None = None,
    signature: Signature | None = None,
    input_example: str | dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> MLModel:
    if not callable(getattr(python_model, "predict", None)):
        raise InvalidInputError("python_model must define predict(context, model_input).")
    import cloudpickle

    stored: dict[str, str] = {}
    for key, src in (artifacts or {}).items():
        source = Path(src)
        if not source.exists():
            raise InvalidInputError(f"Artifact {key!r} points to {src}, which does not exist.")
        target = Path(ARTIFACTS_DIR) / key / source.name
        (directory / target).parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, directory / target, symlinks=False)
        else:
            shutil.copy2(source, directory / target)
        stored[key] = target.as_posix()
    with open(directory / MODEL_FILE, "wb") as fh:
        cloudpickle.dump(python_model, fh)
    reqs = [r for r in (requirement(d) for d in ("cloudpickle", "numpy", "pandas")) if r]
    (directory / "requirements.txt").write_text("\n".join(reqs) + "\n")
    (directory / "python_env.yaml").write_text(python_env(reqs))
    mlmodel = MLModel(
        flavors={
            "python_function": {
                "loader_module": "gitreg.pyfunc",
                "python_model": MODEL_FILE,
                "artifacts": stored,
                "env": {"virtualenv": "python_env.yaml"},
            }
        },
        signature=signature,
        **MLModel.example_fields(input_example),
        run_id=run_id,
        metadata=metadata or {},
    )
    mlmodel.write(directory)
    return mlmodel


def takes_params(predict: Any) -> bool:
    """Whether ``predict`` names a ``params`` argument (``**params`` does not
    count), MLflow's test for passing inference params to a model."""
    try:
        arg = inspect.signature(predict).parameters.get("params")
    except (TypeError, ValueError):
        return False
    return arg is not None and arg.kind != inspect.Parameter.VAR_KEYWORD


class LoadedPythonModel:
    """A PythonModel behind the flavor-independent predict interface; also
    what ``mlflow.pyfunc.load_model`` wraps (via :func:`gitreg.pyfunc._load_pyfunc`)."""

    def __init__(self, model: Any, context: PythonModelContext) -> None:
        self.raw = model
        self.context = context
        self.input_columns: list[str] | None = None
        self._takes_params = takes_params(model.predict)

    @property
    def python_model(self) -> Any:
        """The PythonModel instance (what MLflow's ``unwrap_python_model`` returns)."""
        return self.raw

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        if self._takes_params:
            return self.raw.predict(self.context, data, params=params)
        if params:
            log.warning("The model's predict does not take params; these are ignored: %s", ", ".join(map(str, params)))
        return self.raw.predict(self.context, data)


def load(directory: Path, mlmodel: MLModel, loading: Loading) -> LoadedPythonModel:
    """Unpickle the PythonModel and hand it its artifacts. Every path is checked
    (:func:`~gitreg.flavors.loading.artifact_path`) before anything is unpickled."""
    conf = mlmodel.flavors.get("python_function") or {}
    filename = conf.get("python_model")
    if not filename:
        raise InvalidInputError(
            f"{loading.label}: this python_function model has no 'python_model' (loader "
            f"{conf.get('loader_module')!r}); gitreg loads pickled PythonModel instances."
        )
    check_pickle_allowed(SERIALIZATION, "python_function", loading)
    path = artifact_path(directory, filename, "the python_function flavor's python_model", loading)
    raw_artifacts = conf.get("artifacts") or {}
    if not isinstance(raw_artifacts, dict):
        raise InvalidInputError(f"{loading.label}: the python_function flavor's artifacts must be a mapping.")
    artifacts = {
        str(key): str(
            artifact_path(directory, python_artifact(rel), f"python_function artifact {key!r}", loading, tree=True)
        )
        for key, rel in raw_artifacts.items()
    }
    model = unpickle(path, str(filename), loading)
    context = PythonModelContext(artifacts)
    if hasattr(model, "load_context"):
        model.load_context(context)
    return LoadedPythonModel(model, context)
