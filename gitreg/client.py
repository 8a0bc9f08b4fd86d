"""``gitreg.Client``: MLflow's ``MlflowClient`` registry methods over a git registry.

Every write is a commit (or branch move) in the registry; nothing here keeps
state of its own, so two clients on one registry always agree.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitreg import filters
from gitreg.entities import ModelVersion, RegisteredModel
from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.locate import open_registry
from gitreg.names import FIXED_STAGES, Stage, check_model_name, check_stage_name, check_version, display_stage
from gitreg.registry import Registry


class Client:
    """The registry half of MLflow's client. ``registry`` is a path (or a
    :class:`Registry`); without it the usual precedence picks one."""

    def __init__(self, registry: str | os.PathLike[str] | Registry | None = None) -> None:
        self._registry_arg = registry

    @property
    def registry(self) -> Registry:
        return open_registry(self._registry_arg)

    def _flush_warnings(self) -> None:
        self.registry.flush_warnings()

    # -- registered models -----------------------------------------------------

    def create_registered_model(
        self, name: str, tags: dict[str, str] | None = None, description: str | None = None
    ) -> RegisteredModel:
        model = self.registry.create_model(name, description=description, tags=tags)
        self._flush_warnings()
        return model

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self.registry.get_model(name)

    def search_registered_models(
        self, filter_string: str | None = None, max_results: int = 100_000
    ) -> list[RegisteredModel]:
        clauses = filters.parse(filter_string)
        reg = self.registry
        out = []
        name_clauses = [c for c in clauses if c.key == "name"]
        stages = reg.stage_names()  # listed once, not once per model
        names = [n for n in reg.model_names() if filters.matcher(name_clauses, _constant(n))]
        with reg.store.snapshot():
            reg.prefetch_models(names, stages)
            for name in names:
                model = reg.get_model(name, stages=stages)

                def get(key: str, m: RegisteredModel = model) -> str | None:
                    return m.name if key == "name" else m.tags.get(key[5:])

                if filters.matcher(clauses, get):
                    out.append(model)
                if len(out) >= max_results:
                    break
        return out

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        model = self.registry.update_model(name, description)
        self._flush_warnings()
        return model

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        model = self.registry.rename_model(name, new_name)
        self._flush_warnings()
        return model

    def delete_registered_model(self, name: str) -> None:
        self.registry.delete_model(name)
        self._flush_warnings()

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        self.registry.set_model_tag(name, key, "" if value is None else str(value))
        self._flush_warnings()

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self.registry.set_model_tag(name, key, None)
        self._flush_warnings()

    # -- versions --------------------------------------------------------------

    def create_model_version(
        self,
        name: str,
        source: str | os.PathLike[str],
        run_id: str | None = None,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        **_: Any,
    ) -> ModelVersion:
        """Register ``source`` (a saved model directory, ``runs:/`` URI or
        pickle) as the next version of an existing model (MLflow requires
        ``create_registered_model`` first, and so does this)."""
        from gitreg.saving import register

        source_str = os.fspath(source)
        if not source_str.startswith(("runs:", "models:")) and not Path(source_str).exists():
            source_str = str(Path(source_str))
        return register(
            source_str, name, tags=tags, description=description, run_id=run_id, create=False,
            registry=self.registry, quiet=True,
        )  # fmt: skip

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        return self.registry.get_version(check_model_name(name), check_version(version))

    def search_model_versions(self, filter_string: str | None = None, max_results: int = 100_000) -> list[ModelVersion]:
        clauses = filters.parse(filter_string)
        reg = self.registry
        exact = [c.value for c in clauses if c.key == "name" and c.op == "="]
        names = exact[:1] if exact else reg.model_names()
        out: list[ModelVersion] = []
        for name in names:
            try:
                versions = reg.list_versions(name)
            except NotFoundError:
                continue
            for mv in sorted(versions, key=lambda v: v.version, reverse=True):

                def get(key: str, mv: ModelVersion = mv) -> str | None:
                    if key.startswith("tags."):
                        return mv.tags.get(key[5:])
                    value = getattr(mv, key, None)
                    return None if value is None else str(value)

                if filters.matcher(clauses, get):
                    out.append(mv)
                if len(out) >= max_results:
                    return out
        return out

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        """For each stage asked (default: every fixed stage and "None"), the
        version it holds; for "None", the newest version in no stage."""
        reg = self.registry
        versions = reg.list_versions(name)
        wanted = [s.lower() for s in (stages or [*FIXED_STAGES, "None"])]
        out = []
        for stage in wanted:
            if stage == "none":
                free = [v for v in versions if v.current_stage == "None"]
                if free:
                    out.append(free[-1])
                continue
            canon = check_stage_name(stage)
            holders = [v for v in versions if v.current_stage.lower() == canon or canon in v.aliases]
            out.extend(holders[-1:])
        return out

    def update_model_version(self, name: str, version: int | str, description: str | None = None) -> ModelVersion:
        mv = self.registry.update_version(check_model_name(name), check_version(version), description=description)
        self._flush_warnings()
        return mv

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        self.registry.update_version(
            check_model_name(name), check_version(version), tags={key: "" if value is None else str(value)}
        )
        self._flush_warnings()

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        self.registry.update_version(check_model_name(name), check_version(version), tags={key: None})
        self._flush_warnings()

    def delete_model_version(self, name: str, version: int | str) -> None:
        self.registry.delete_version(check_model_name(name), check_version(version))
        self._flush_warnings()

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to Staging, Production, Archived, "None" or any stage name."""
        return self.registry.promote(
            check_model_name(name), check_version(version), stage, archive_existing=archive_existing_versions
        )

    # -- aliases -----------------------------------------------------------------

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """A fixed stage named as an alias is a transition to it (MLflow users' way to mean it)."""
        target = Stage.parse(alias)
        if target.is_none:
            raise InvalidInputError(f"{alias!r} cannot be an alias: 'None' means no stage.")
        self.registry.promote(check_model_name(name), check_version(version), target)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        if self.registry.demote(check_model_name(name), alias) is None:
            raise NotFoundError(f"Model {name!r} has no alias {display_stage(check_stage_name(alias))!r}.")

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        ref = self.registry.stage_ref_version(check_model_name(name), alias)
        if ref is None:
            raise NotFoundError(f"Model {name!r} has no version with alias {display_stage(check_stage_name(alias))!r}.")
        return self.registry.model_version(ref)

    def get_model_version_download_uri(self, name: str, version: int | str) -> str:
        """The verified local directory holding the version's files."""
        from gitreg import uri as uris
        from gitreg.pyfunc import materialized

        parsed = uris.ModelURI(kind="version", name=check_model_name(name), version=check_version(version))
        return str(materialized(parsed, self.registry))


MlflowClient = Client


def _constant(value: str) -> Callable[[str], str | None]:
    """A filter field getter that answers ``value`` whatever the field."""
    return lambda _key: value
