"""``GitregRegistryStore``: MLflow 3's model-registry ``AbstractStore`` on a gitreg registry.

Every call is one call into :class:`gitreg.Client` (MLflow's search grammar, stages and
aliases live there, once) and its answer is returned as MLflow's own entities. gitreg's
errors become :class:`~mlflow.exceptions.MlflowException` with the same ``error_code``.
The store keeps nothing of its own: the registry is opened per call through gitreg's
per-process cache, so two MLflow processes (or an MLflow server and a ``gitreg`` CLI) on
one registry always agree.

``create_model_version`` copies the model into git, so a version is a commit and a tag
like any other gitreg version; see :meth:`GitregRegistryStore.create_model_version`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlflow.entities.model_registry import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from mlflow.exceptions import MlflowException
from mlflow.prompt.constants import IS_PROMPT_TAG_KEY
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST
from mlflow.store.entities.paged_list import PagedList
from mlflow.store.model_registry.abstract_store import AbstractStore

from gitreg import entities, package
from gitreg.client import Client
from gitreg.locate import open_registry
from gitreg.mlflow_plugin import uris
from gitreg.mlflow_plugin.errors import as_mlflow_errors, mlflow_errors
from gitreg.names import check_model_name, check_version, is_fixed_stage
from gitreg.registry import Registry

#: The file MLflow writes into a registered model it downloads; not part of any model.
REGISTERED_MODEL_META = "registered_model_meta"
_PROMPT_EXCLUSION = f"tag.`{IS_PROMPT_TAG_KEY}` != 'true'"
_LOGGED_MODEL_URI = re.compile(r"models:/(m-[0-9a-f]{32})/?")


class GitregRegistryStore(AbstractStore):
    """MLflow's registry store for ``gitreg:`` and ``gitreg+<transport>:`` registry URIs."""

    def __init__(self, store_uri: str | None = None, tracking_uri: str | None = None) -> None:
        super().__init__(store_uri, tracking_uri)
        if store_uri is None:
            raise MlflowException("GitregRegistryStore needs a gitreg registry URI.", INVALID_PARAMETER_VALUE)
        with as_mlflow_errors():
            self.registry_uri = uris.parse_registry_uri(store_uri)
        self.tracking_uri = tracking_uri

    def __repr__(self) -> str:
        return f"GitregRegistryStore({self.registry_uri.uri!r})"

    @property
    def _registry(self) -> Registry:
        return open_registry(self.registry_uri.location)

    @property
    def _client(self) -> Client:
        return Client(self._registry)

    # -- registered models -----------------------------------------------------------

    @mlflow_errors
    def create_registered_model(
        self, name: str, tags: list[RegisteredModelTag] | None = None, description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:  # fmt: skip
        _no_deployment_job(deployment_job_id)
        return _registered_model(self._client.create_registered_model(name, _tag_dict(tags), description))

    @mlflow_errors
    def update_registered_model(
        self, name: str, description: str | None, deployment_job_id: str | None = None
    ) -> RegisteredModel:
        _no_deployment_job(deployment_job_id)
        return _registered_model(self._client.update_registered_model(name, description))

    @mlflow_errors
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return _registered_model(self._client.rename_registered_model(name, new_name))

    @mlflow_errors
    def delete_registered_model(self, name: str) -> None:
        self._client.delete_registered_model(name)

    @mlflow_errors
    def search_registered_models(
        self, filter_string: str | None = None, max_results: int | None = None,
        order_by: list[str] | None = None, page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:  # fmt: skip
        kwargs: dict[str, Any] = {} if max_results is None else {"max_results": max_results}
        filter_string, no_prompts = _without_prompt_clause(filter_string)
        found = self._client.search_registered_models(filter_string, order_by=order_by, page_token=page_token, **kwargs)
        models = [m for m in found if not (no_prompts and m.tags.get(IS_PROMPT_TAG_KEY) == "true")]
        return PagedList([_registered_model(m) for m in models], found.token)

    @mlflow_errors
    def get_registered_model(self, name: str) -> RegisteredModel:
        return _registered_model(self._client.get_registered_model(name))

    @mlflow_errors
    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        return [_model_version(mv) for mv in self._client.get_latest_versions(name, stages)]

    @mlflow_errors
    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        self._client.set_registered_model_tag(name, tag.key, tag.value)

    @mlflow_errors
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._client.delete_registered_model_tag(name, key)

    # -- model versions ------------------------------------------------------------------

    @mlflow_errors
    def create_model_version(
        self, name: str, source: str, run_id: str | None = None, tags: list[ModelVersionTag] | None = None,
        run_link: str | None = None, description: str | None = None, local_model_path: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:  # fmt: skip
        """Copy the model into git as the next version of ``name`` (which must exist, as in MLflow).

        The files come from ``local_model_path`` when MLflow passes it (``log_model(...,
        registered_model_name=)``); from this registry for a ``models:/NAME/…`` source; else
        from MLflow's ``mlflow.artifacts.download_artifacts(source)`` (``runs:/``, ``models:/m-…``,
        a tracking server's artifact URI or a local path). A local path that does not exist,
        with a ``run_id`` (the seed's ``create_model_version(source="artifacts/0/RUN/artifacts/model",
        run_id=RUN)``), falls back to the run's logged model named by the path's last part, as
        ``mlflow.register_model("runs:/RUN/model")`` does in MLflow 3. MLflow's
        ``registered_model_meta`` is dropped. The version records ``source`` as MLflow gave it
        and ``run_id``, and the run's metrics and params when the tracking store has the run."""
        check_model_name(name)
        self._registry.record(name)  # MLflow's stores refuse a version of a model that does not exist
        tag_dict = _tag_dict(tags)
        if _is_registry_uri(source):
            # A version of this registry (copy_model_version's source): gitreg copies it, verified.
            from gitreg.saving import register

            mv = register(
                source, name, tags=tag_dict, description=description, run_id=run_id, create=False,
                registry=self._registry, quiet=True,
            )  # fmt: skip
            return _model_version(mv)
        run_id = run_id or _logged_model_run(source, self.tracking_uri)
        metrics, params = _run_data(run_id, self.tracking_uri)
        with self._model_directory(source, run_id, local_model_path) as directory:
            pkg = package.from_directory(directory, source=source, run_id=run_id, metrics=metrics, params=params)
            pkg = dataclasses.replace(pkg, files=tuple(f for f in pkg.files if f != REGISTERED_MODEL_META))
            reg = self._registry
            mv = reg.register(name, pkg, description=description, tags=tag_dict, create=False)
            reg.flush_warnings()
        return _model_version(mv)

    @contextmanager
    def _model_directory(self, source: str, run_id: str | None, local_model_path: str | None) -> Iterator[Path]:
        """A local directory holding the model ``source`` names, for as long as the block runs."""
        if local_model_path and os.path.isdir(local_model_path):
            yield Path(local_model_path).absolute()
            return
        import mlflow.artifacts

        with tempfile.TemporaryDirectory(prefix="gitreg-mlflow-") as tmp:
            uri = source
            if _is_missing_local_path(source) and run_id:
                uri = _run_logged_model_uri(run_id, Path(source).name, self.tracking_uri)
            local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp, tracking_uri=self.tracking_uri)
            yield Path(local).absolute()

    @mlflow_errors
    def update_model_version(self, name: str, version: str | int, description: str | None) -> ModelVersion:
        return _model_version(self._client.update_model_version(name, version, description))

    @mlflow_errors
    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        return _model_version(
            self._client.transition_model_version_stage(name, version, stage, bool(archive_existing_versions))
        )

    @mlflow_errors
    def delete_model_version(self, name: str, version: str | int) -> None:
        self._client.delete_model_version(name, version)

    @mlflow_errors
    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return _model_version(self._client.get_model_version(name, version))

    @mlflow_errors
    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """The version's ``gitreg…?model=NAME&version=N`` artifact URI, which
        :class:`~gitreg.mlflow_plugin.artifacts.GitregArtifactRepository` downloads, verified,
        by copying: never a path into gitreg's cache."""
        number = check_version(version)
        self._registry.version_ref(check_model_name(name), number)  # RESOURCE_DOES_NOT_EXIST if it is not there
        return self.registry_uri.version_uri(name, number)

    @mlflow_errors
    def search_model_versions(
        self, filter_string: str | None = None, max_results: int | None = None,
        order_by: list[str] | None = None, page_token: str | None = None,
    ) -> PagedList[ModelVersion]:  # fmt: skip
        kwargs: dict[str, Any] = {} if max_results is None else {"max_results": max_results}
        found = self._client.search_model_versions(filter_string, order_by=order_by, page_token=page_token, **kwargs)
        return PagedList([_model_version(mv) for mv in found], found.token)

    @mlflow_errors
    def set_model_version_tag(self, name: str, version: str | int, tag: ModelVersionTag) -> None:
        self._client.set_model_version_tag(name, version, tag.key, tag.value)

    @mlflow_errors
    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self._client.delete_model_version_tag(name, version, key)

    # -- aliases -------------------------------------------------------------------------

    @mlflow_errors
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self._client.set_registered_model_alias(name, alias, version)

    @mlflow_errors
    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._client.delete_registered_model_alias(name, alias)

    @mlflow_errors
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return _model_version(self._client.get_model_version_by_alias(name, alias))

    @mlflow_errors
    def copy_model_version(self, src_mv: ModelVersion, dst_name: str) -> ModelVersion:
        """gitreg's copy: the source version's files (verified), metrics, params, run id,
        source, description and tags become the next version of ``dst_name`` (created if
        needed). The source must be a version of this registry."""
        return _model_version(self._client.copy_model_version(f"models:/{src_mv.name}/{src_mv.version}", dst_name))


# -- MLflow's entities ----------------------------------------------------------------------


def _model_version(mv: entities.ModelVersion) -> ModelVersion:
    logged = _LOGGED_MODEL_URI.fullmatch(mv.source or "")
    return ModelVersion(
        name=mv.name,
        version=str(mv.version),
        creation_timestamp=mv.creation_timestamp,
        last_updated_timestamp=mv.last_updated_timestamp,
        description=mv.description or None,
        user_id=mv.user_id or None,
        current_stage=mv.current_stage,
        source=mv.source,
        run_id=mv.run_id,
        status=mv.status,
        tags=[ModelVersionTag(k, v) for k, v in sorted(mv.tags.items())],
        aliases=list(mv.aliases),
        model_id=logged.group(1) if logged else None,
    )


def _registered_model(rm: entities.RegisteredModel) -> RegisteredModel:
    return RegisteredModel(
        name=rm.name,
        creation_timestamp=rm.creation_timestamp,
        last_updated_timestamp=rm.last_updated_timestamp,
        description=rm.description or None,
        latest_versions=[_model_version(mv) for mv in rm.latest_versions],
        tags=[RegisteredModelTag(k, v) for k, v in sorted(rm.tags.items())],
        # Stages are current_stage in MLflow; only the other names are aliases.
        aliases=[RegisteredModelAlias(a, str(v)) for a, v in rm.aliases.items() if not is_fixed_stage(a)],
    )


def _without_prompt_clause(filter_string: str | None) -> tuple[str | None, bool]:
    """``filter_string`` without the prompt exclusion MLflow's client appends to every model
    search (``tag.`mlflow.prompt.is_prompt` != 'true'``), and whether it was there. MLflow's
    SQL store reads that one clause as "has no such tag, or another value"; gitreg's filters,
    like SQL, never match a missing tag, so the adapter applies it to the page instead."""
    if not filter_string:
        return filter_string, False
    for clause in (f" AND {_PROMPT_EXCLUSION}", _PROMPT_EXCLUSION):
        if filter_string.endswith(clause):
            return filter_string[: -len(clause)] or None, True
    return filter_string, False


def _tag_dict(tags: Iterable[RegisteredModelTag | ModelVersionTag] | dict[str, Any] | None) -> dict[str, str] | None:
    if not tags:
        return None
    if isinstance(tags, dict):
        return {str(k): "" if v is None else str(v) for k, v in tags.items()}
    return {t.key: "" if t.value is None else str(t.value) for t in tags}


def _no_deployment_job(deployment_job_id: str | None) -> None:
    if deployment_job_id:
        raise MlflowException(
            "Deployment jobs are a Databricks feature; a gitreg registry has none.", INVALID_PARAMETER_VALUE
        )


# -- where a version's files and run data come from ---------------------------------------


def _is_registry_uri(source: str) -> bool:
    """A ``models:/NAME/…`` URI of the registry (not MLflow 3's logged model ``models:/m-…``)."""
    return source.startswith("models:/") and _LOGGED_MODEL_URI.fullmatch(source) is None


def _is_missing_local_path(source: str) -> bool:
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", source) and not source.startswith("file:"):
        return False
    path = source.removeprefix("file://") if source.startswith("file://") else source
    return not os.path.exists(path)


def _tracking(tracking_uri: str | None) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


def _logged_model_run(source: str, tracking_uri: str | None) -> str | None:
    """The run a ``models:/m-…`` source was logged from, when the tracking store knows it."""
    logged = _LOGGED_MODEL_URI.fullmatch(source)
    if logged is None:
        return None
    try:
        return _tracking(tracking_uri).get_logged_model(logged.group(1)).source_run_id
    except MlflowException:
        return None


def _run_data(run_id: str | None, tracking_uri: str | None) -> tuple[dict[str, float], dict[str, str]]:
    """The run's metrics and params, or nothing when the tracking store does not have the run."""
    if not run_id:
        return {}, {}
    try:
        data = _tracking(tracking_uri).get_run(run_id).data
    except MlflowException:
        return {}, {}
    return dict(data.metrics), dict(data.params)


def _run_logged_model_uri(run_id: str, name: str, tracking_uri: str | None) -> str:
    """``models:/m-…`` of the model named ``name`` logged by run ``run_id`` (the newest if several)."""
    client = _tracking(tracking_uri)
    try:
        run = client.get_run(run_id)
        found = client.search_logged_models(
            experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"
        )
    except MlflowException as exc:
        raise MlflowException(f"Cannot find the model of run {run_id!r}: {exc.message}", RESOURCE_DOES_NOT_EXIST)
    named = sorted((m for m in found if m.name == name), key=lambda m: m.creation_timestamp)
    if not named:
        raise MlflowException(
            f"Run {run_id!r} logged no model named {name!r}, and the source path does not exist.",
            RESOURCE_DOES_NOT_EXIST,
        )
    return f"models:/{named[-1].model_id}"


__all__ = ["GitregRegistryStore"]
