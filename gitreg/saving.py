"""What ``save_model``, ``log_model`` and ``register_model`` share across
flavors: input examples and inferred signatures, the run a model is logged
to, and registration with MLflow's messages."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gitreg import runs
from gitreg import uri as uris
from gitreg.entities import ModelVersion
from gitreg.errors import AlreadyExistsError, InvalidInputError
from gitreg.flavors.examples import write_example
from gitreg.flavors.mlmodel import MLModel
from gitreg.manifest import check_artifact_path, check_metrics, check_params
from gitreg.signature import Signature, infer_signature

# (directory, signature, input example path, metadata) -> the MLmodel written
SaveFn = Callable[[Path, Signature | None, str | None, dict[str, Any]], MLModel]


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` returns, as MLflow's ``ModelInfo``."""

    model_uri: str
    run_id: str
    artifact_path: str
    flavors: dict[str, dict[str, Any]]
    signature: Signature | None
    registered_model_version: int | None = None
    registered_model_name: str | None = None

    @property
    def model_version(self) -> ModelVersion | None:
        if self.registered_model_version is None or self.registered_model_name is None:
            return None
        from gitreg.locate import open_registry

        return open_registry().get_version(self.registered_model_name, self.registered_model_version)


def save(
    path: str | os.PathLike[str],
    save_fn: SaveFn,
    *,
    signature: Signature | dict[str, Any] | None,
    input_example: Any,
    metrics: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> MLModel:
    """Save into a new directory ``path``; a failed save leaves nothing behind."""
    target = Path(path).expanduser().absolute()
    occupied = any(target.iterdir()) if target.is_dir() else target.exists()
    if occupied:
        if not overwrite:
            raise AlreadyExistsError(f"{target} already exists and is not empty; choose another path.")
        shutil.rmtree(target)
    if isinstance(signature, dict):
        signature = Signature.from_dict(signature)
    if signature is not None and not isinstance(signature, Signature):
        raise InvalidInputError("signature must be a gitreg Signature (see gitreg.infer_signature) or a mapping.")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        info = None
        if input_example is not None:
            info = write_example(tmp, input_example)
            if signature is None:
                signature = infer_signature(input_example)
        meta = {"gitreg": {"metrics": check_metrics(metrics), "params": check_params(params)}}
        mlmodel = save_fn(tmp, signature, info["artifact_path"] if info else None, meta)
        if info is not None:  # the flavors write the example's path; MLflow's description says how to read it
            mlmodel = replace(mlmodel, input_example_info=info)
            mlmodel.write(tmp)
        if target.exists():
            target.rmdir()
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return mlmodel


def log(
    save_fn: SaveFn,
    artifact_path: str,
    *,
    registered_model_name: str | None,
    signature: Signature | dict[str, Any] | None,
    input_example: Any,
    metrics: dict[str, Any] | None,
    params: dict[str, Any] | None,
    tags: dict[str, str] | None,
    description: str | None,
    registry: Any = None,
) -> ModelInfo:
    """Save into the active run (starting one if needed) and optionally register."""
    check_artifact_path(artifact_path, "artifact_path")
    if registered_model_name is not None:
        from gitreg.names import check_model_name

        check_model_name(registered_model_name)
    run = runs.active_run() or runs.start_run(auto=True)
    all_metrics = {**run.metrics, **check_metrics(metrics)}
    all_params = {**run.params, **check_params(params)}
    mlmodel = save(
        run.directory / artifact_path,
        lambda d, s, e, m: save_fn(d, s, e, m | {"run_id": run.info.run_id}),
        signature=signature,
        input_example=input_example,
        metrics=all_metrics,
        params=all_params,
        overwrite=not run.auto,  # an explicit run logging the same path again replaces it, as in MLflow
    )
    run.models[artifact_path] = {"flavor": mlmodel.flavor, "metrics": all_metrics}
    run.save()
    model_uri = f"runs:/{run.info.run_id}/{artifact_path}"
    if run.auto:
        runs.end_run()
    version = None
    if registered_model_name is not None:
        version = register(model_uri, registered_model_name, tags=tags, description=description, registry=registry)
    return ModelInfo(
        model_uri=model_uri,
        run_id=run.info.run_id,
        artifact_path=artifact_path,
        flavors=mlmodel.flavors,
        signature=mlmodel.signature,
        registered_model_version=version.version if version else None,
        registered_model_name=registered_model_name,
    )


def register(
    model_uri: str | os.PathLike[str],
    name: str,
    *,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    metrics: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    run_id: str | None = None,
    create: bool = True,
    registry: Any = None,
    quiet: bool = False,
) -> ModelVersion:
    """Register the model at ``model_uri`` as a new version of ``name``."""
    from gitreg import package
    from gitreg.locate import open_registry
    from gitreg.names import check_model_name
    from gitreg.registry.layout import MAIN, at, record_path

    check_model_name(name)
    reg = open_registry(registry)
    parsed = uris.parse(os.fspath(model_uri))
    cleanup = None
    if parsed.kind == "path":
        pkg, cleanup = package.from_source(str(parsed.path), metrics=metrics, params=params, run_id=run_id)
    else:
        if parsed.kind == "run":
            assert parsed.run_id and parsed.path
            directory = runs.model_dir(parsed.run_id, parsed.path)
        else:
            from gitreg.materialize import materialized

            directory = materialized(parsed, reg)
        pkg = package.from_directory(directory, source=str(parsed), metrics=metrics, params=params, run_id=run_id)
    try:
        exists = reg.store.read(at(MAIN, record_path(name))) is not None
        if not quiet:
            if exists:
                print(
                    f"Registered model {name!r} already exists. Creating a new version of this model...",
                    file=sys.stderr,
                )
            elif create:
                print(f"Successfully registered model {name!r}.", file=sys.stderr)
        mv = reg.register(name, pkg, description=description, tags=tags, create=create)
    finally:
        if cleanup is not None:
            cleanup.cleanup()
    reg.flush_warnings()
    if not quiet:
        print(f"Created version '{mv.version}' of model '{mv.name}'.", file=sys.stderr)
    if parsed.kind == "run":
        try:
            run = runs.load_run(parsed.run_id or "")
            run.models.setdefault(parsed.path or "model", {})["registered"] = {"name": name, "version": mv.version}
            run.save()
        except Exception:  # the run record is a convenience; the version is registered
            pass
    return mv
