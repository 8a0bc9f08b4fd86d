"""The ``Registry`` facade: today's public methods, each one call into the part that owns the rule.

Parts: :mod:`.reader`, :mod:`.records`, :mod:`.versions`, :mod:`.promotion`, :mod:`.deletion`, all
publishing through one :class:`~gitreg.registry.writer.Writer`. A registry opened from a git URL is
this same class with a mirror store and a fetching :class:`Freshness` composed in (:mod:`gitreg.remote`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gitreg.config import RegistryConfig
from gitreg.entities import ModelVersion, RegisteredModel
from gitreg.manifest import ModelRecord
from gitreg.names import NO_STAGE, Stage, check_model_name
from gitreg.registry import notices
from gitreg.registry.activity import Activity
from gitreg.registry.bootstrap import create_store, not_a_registry, open_store
from gitreg.registry.layout import TAG_PREFIX
from gitreg.registry.parts import Parts
from gitreg.registry.views import NewVersion, Package, Resolved, StageMove, VersionRef
from gitreg.uri import ModelURI

if TYPE_CHECKING:
    from gitreg.registry import proposal


class Registry(Parts):
    """A gitreg registry: one git repository."""

    def __repr__(self) -> str:
        return f"Registry({str(self.path)!r})"

    @property
    def path(self) -> Path:
        return self.store.work_tree or self.store.git_dir

    @classmethod
    def init(cls, path: str | os.PathLike[str], *, bare: bool = False) -> Registry:
        """Create a registry at ``path`` (a new or empty directory)."""
        return cls(create_store(Path(path), bare=bare))

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Registry:
        """The registry at ``path``: :class:`NotFoundError` if there is none."""
        registry = cls(open_store(Path(path)))
        registry.check_is_registry()
        return registry

    def check_is_registry(self) -> None:
        if not self.reader.is_registry():
            raise not_a_registry(str(self))

    def close(self) -> None:
        self.store.close()

    def flush_warnings(self) -> list[str]:
        """Log what the writes since the last flush left to say, and forget it; returns it (see :mod:`.notices`)."""
        return notices.flush(self.warnings)

    def config(self) -> RegistryConfig:
        return self.reader.config()

    def trusted_types(self) -> tuple[str, ...]:
        """``trusted_types`` from ``registry.yaml`` on main: whoever can change main decides what loaders trust."""
        return self.config().trusted_types

    def model_names(self) -> list[str]:
        return self.reader.model_names()

    def record(self, name: str) -> ModelRecord:
        return self.reader.record(name)

    def version_ref(self, name: str, version: int, *, record: ModelRecord | None = None) -> VersionRef:
        return self.reader.version_ref(name, version, record=record)

    def latest_ref(self, name: str) -> VersionRef:
        return self.reader.latest_ref(name)

    def stage_ref_version(self, name: str, stage: str, *, as_of: int | None = None) -> VersionRef | None:
        return self.reader.stage_ref_version(name, stage, as_of=as_of)

    def resolve(self, uri: ModelURI) -> Resolved:
        return self.reader.resolve(uri)

    def current_tree(self, uri: ModelURI) -> str | None:
        return self.reader.current_tree(uri)

    def stage_trees(self, stage: str) -> dict[str, str]:
        return self.reader.stage_trees(stage)

    def version_numbers(self, name: str, record: ModelRecord | None = None) -> list[int]:
        return self.reader.version_numbers(name, record)

    def stage_names(self) -> list[str]:
        return self.reader.stage_names()

    def stages_of(self, name: str, stages: Iterable[str] | None = None) -> dict[str, int]:
        return self.reader.stages_of(name, stages)

    def model_version(
        self, ref: VersionRef, record: ModelRecord | None = None, held: dict[str, int] | None = None
    ) -> ModelVersion:
        return self.reader.model_version(ref, record, held)

    def get_version(self, name: str, version: int) -> ModelVersion:
        return self.reader.get_version(name, version)

    def list_versions(self, name: str, numbers: Sequence[int] | None = None) -> list[ModelVersion]:
        return self.reader.list_versions(name, numbers)

    def prefetch_models(self, names: Sequence[str], stages: Sequence[str]) -> None:
        self.reader.prefetch_models(names, stages)

    def get_model(self, name: str, *, stages: Iterable[str] | None = None) -> RegisteredModel:
        return self.reader.get_model(name, stages=stages)

    def stage_history(self, name: str, stages: Iterable[str] | None = None) -> list[StageMove]:
        return self.promotion.history(name, stages)

    def create_model(
        self, name: str, description: str | None = None, tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        self.records.create(check_model_name(name), description, tags)
        return self.get_model(name)

    def register(
        self,
        name: str,
        package: Package,
        *,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        create: bool = True,
        provenance_dir: Path | None = None,
    ) -> ModelVersion:
        """Add ``package`` as the next version of ``name`` (creating the model if ``create``)."""
        ref = self.versions.register(
            name, package, description=description, tags=tags, create=create, provenance_dir=provenance_dir
        )
        self.store.clear_stale_locks(TAG_PREFIX + name)
        # A version that did not exist a moment ago is in no stage yet and has changed only by being
        # made: no stage branches to list, no history to read.
        return self.reader.model_version(ref, held={}, changes=Activity())

    def register_many(self, versions: Iterable[NewVersion], *, provenance_dir: Path | None = None) -> list[VersionRef]:
        return self.versions.register_many(versions, provenance_dir=provenance_dir)

    def update_model(self, name: str, description: str | None) -> RegisteredModel:
        self.records.describe_model(check_model_name(name), description)
        return self.get_model(name)

    def set_model_tag(self, name: str, key: str, value: str | None) -> None:
        """Set (or with ``value=None`` delete) a registered model's tag."""
        self.records.set_model_tag(check_model_name(name), key, value)

    def update_version(
        self, name: str, version: int, description: str | None = None, tags: dict[str, str | None] | None = None
    ) -> ModelVersion:
        """Change a version's description and/or tags (a tag value of None deletes it)."""
        self.records.update_version(name, version, description, tags)
        return self.get_version(name, version)

    def promote(
        self,
        name: str,
        version: int,
        stage: str | Stage,
        *,
        archive_existing: bool = False,
        exclusive_fixed: bool = True,
        override_policy: str | None = None,
    ) -> ModelVersion:
        """Put ``version`` of ``name`` in ``stage`` ("None": out of every fixed stage), the stage's
        policy enforced unless ``override_policy`` gives a reason: see :meth:`Promotion.move`."""
        ref, held = self.promotion.move(name, version, stage, archive_existing, exclusive_fixed, override_policy)
        return self.model_version(ref, held=held)

    def rollback(
        self, name: str, stage: str, *, to: int | None = None, override_policy: str | None = None
    ) -> tuple[int | None, ModelVersion]:
        """Put back the version ``stage`` held before its current one (or ``to``, which it held
        at some point), through :meth:`promote`: one commit, the policy applies. Returns the
        version it held and the version it holds now."""
        from gitreg.registry.rollback import rollback_target

        before, target = rollback_target(self.reader, name, stage, to)
        return before, self.promote(name, target, stage, override_policy=override_policy)

    def propose(self, name: str, version: int, stage: str) -> proposal.Proposal:
        """Put ``version`` of ``name`` in ``stage`` on a branch for review; see :mod:`.proposal`."""
        from gitreg.registry import proposal

        return proposal.propose(self.promotion, name, version, stage)

    def push_proposal(self, made: proposal.Proposal) -> str:
        """Publish a proposal to the registry's remote; returns the remote's URL."""
        from gitreg.registry import proposal

        return proposal.push(self.store, self.path, made)

    def demote(self, name: str, stage: str) -> int | None:
        """Remove ``name`` from ``stage``; returns the version it held."""
        return self.promotion.demote(name, stage)

    def demote_version(self, name: str, version: int) -> ModelVersion:
        """MLflow's transition to stage "None": the version leaves every fixed stage."""
        return self.promote(name, version, NO_STAGE)

    def set_alias(self, name: str, alias: str, version: int) -> ModelVersion:
        """Point ``alias`` at ``version``; the version's stages stay as they are (:meth:`Promotion.set_alias`)."""
        ref, held = self.promotion.set_alias(name, alias, version)
        return self.model_version(ref, held=held)

    def delete_alias(self, name: str, alias: str) -> int:
        """Remove ``alias`` from model ``name``; returns the version it named."""
        return self.promotion.delete_alias(name, alias)

    def delete_version(self, name: str, version: int) -> None:
        """Tombstone a version: it no longer resolves and leaves every stage; its number is never reused."""
        self.deletion.delete_version(name, version)

    def delete_model(self, name: str) -> None:
        """Remove a model from main and every stage; its tags stay, so a later model of this name continues."""
        self.deletion.delete_model(name)

    def rename_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model: each version is registered again under the new name, and stages follow."""
        self.deletion.rename_model(name, new_name)
        return self.get_model(new_name)


__all__ = ["NewVersion", "Package", "Registry", "Resolved", "StageMove", "VersionRef"]
