"""``gitreg import-mlflow``: copy an existing MLflow registry into a gitreg registry.

Each MLflow version becomes the gitreg version of the same number (a commit and a tag),
with its files downloaded through MLflow's artifact API, its source, run id, tags,
description and the run's metrics and params; then each model's stages and aliases are
set. Numbers are kept: a version MLflow deleted (a gap in its numbering) becomes a
tombstone in gitreg's record, exactly what ``gitreg delete`` leaves, so the next number
is MLflow's and the gap's numbers are never reused. A re-run compares numbers and
stage/alias targets and writes only what is missing, so an interrupted import resumes.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import mlflow.artifacts
from mlflow.entities.model_registry import ModelVersion as MlflowVersion
from mlflow.tracking import MlflowClient

from gitreg import package
from gitreg.errors import ConflictError, InvalidInputError, NotFoundError
from gitreg.manifest import ModelRecord
from gitreg.names import FIXED_STAGES
from gitreg.registry import Registry

#: The file MLflow writes into a registered model it downloads; not part of any model.
REGISTERED_MODEL_META = "registered_model_meta"
_PAGE = 1000

Progress = Callable[[str], None]


@dataclass
class ImportSummary:
    """What an import wrote (and what it found already there)."""

    models: int = 0  # registered models created
    versions: int = 0  # versions registered
    stages: int = 0  # stage moves made
    aliases: int = 0  # aliases set
    present: int = 0  # versions gitreg already had
    notes: list[str] = field(default_factory=list)  # what could not be carried over as it was

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        return (
            f"imported {_count(self.models, 'model')}, {_count(self.versions, 'version')}, "
            f"{_count(self.stages, 'stage move')}, {_count(self.aliases, 'alias', 'aliases')}; "
            f"{self.present} already present"
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def import_registry(
    registry: Registry,
    tracking_uri: str,
    registry_uri: str | None = None,
    models: Sequence[str] = (),
    progress: Progress | None = None,
) -> ImportSummary:
    """Copy the MLflow registry at ``registry_uri`` (default: ``tracking_uri``, as MLflow
    does) into ``registry``: every model, or those named in ``models``.

    Raises :class:`~gitreg.errors.NotFoundError` for a named model MLflow does not have,
    and :class:`~gitreg.errors.ConflictError` when gitreg already used a number MLflow's
    version needs for a different version (the registries have diverged); what was
    imported before the refusal stays, and a re-run continues from there."""
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri or tracking_uri)
    say = progress or (lambda _: None)
    summary = ImportSummary()
    names = list(models) or [m.name for m in _paged(client.search_registered_models)]
    for name in names:
        _import_model(registry, client, tracking_uri, name, summary, say)
    return summary


def _import_model(
    registry: Registry, client: MlflowClient, tracking_uri: str, name: str, summary: ImportSummary, say: Progress
) -> None:
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        raise NotFoundError(f"MLflow has no registered model {name!r} ({exc.message}).") from None
    if name not in registry.model_names():
        registry.create_model(name, model.description or None, dict(model.tags) or None)
        _keep_creation_time(registry, name, model.creation_timestamp)
        summary.models += 1
    versions = sorted(_paged(client.search_model_versions, _name_filter(name)), key=lambda v: int(v.version))
    for index, mv in enumerate(versions, 1):
        say(f"{name}: version {mv.version} ({index}/{len(versions)})")
        _import_version(registry, client, tracking_uri, mv, summary)
    _import_stages(registry, name, versions, summary)
    _import_aliases(registry, name, _aliases(model), summary)


def _keep_creation_time(registry: Registry, name: str, created: int | None) -> None:
    """Give the model just created MLflow's creation time (one more commit on main)."""
    if created:
        when = int(created)
        registry.records.update(name, lambda r: replace(r, created=when), f"Keep MLflow's creation time of {name}")


def _import_version(
    registry: Registry, client: MlflowClient, tracking_uri: str, mv: MlflowVersion, summary: ImportSummary
) -> None:
    """Register MLflow's ``mv`` as the gitreg version of its number, unless gitreg has it."""
    name, number = mv.name, int(mv.version)
    record = registry.record(name)
    if number < record.next_version:
        _check_same_version(registry, record, mv)
        summary.present += 1
        return
    if mv.status != "READY":
        summary.notes.append(f"{name} version {number} is {mv.status} in MLflow: left out (its number stays free).")
        return
    _skip_to(registry, record, number)
    metrics, params = _run_data(client, mv.run_id)
    with _downloaded(client, tracking_uri, name, mv.version) as directory:
        pkg = package.from_directory(directory, source=mv.source, run_id=mv.run_id, metrics=metrics, params=params)
        pkg = replace(
            pkg, files=tuple(f for f in pkg.files if f != REGISTERED_MODEL_META), registered=_registered(registry, mv)
        )
        registry.register(name, pkg, description=mv.description or None, tags=dict(mv.tags) or None, create=False)
    registry.flush_warnings()
    summary.versions += 1


def _registered(registry: Registry, mv: MlflowVersion) -> tuple[str, int] | None:
    """MLflow's author and creation time of ``mv``, kept as the gitreg version's (the importer's
    identity stands in for a version MLflow recorded no user for). The commit itself is dated
    now: main's commit dates stay in order, which reading its history relies on."""
    if not mv.creation_timestamp:
        return None
    return (mv.user_id or str(registry.store.identity())), int(mv.creation_timestamp)


def _check_same_version(registry: Registry, record: ModelRecord, mv: MlflowVersion) -> None:
    """Refuse to count gitreg's version ``mv.version`` as MLflow's when it came from elsewhere."""
    number = int(mv.version)
    if number in record.deleted:
        return  # tombstoned: deleted in MLflow before an earlier import, or in gitreg since
    ours = registry.version_ref(mv.name, number, record=record).manifest.provenance
    # gitreg takes the run id from the MLmodel when MLflow's version has none: compare only what MLflow has
    if ours.source != mv.source or (mv.run_id and ours.run_id != mv.run_id):
        raise ConflictError(
            f"gitreg's {mv.name!r} version {number} is not MLflow's (source {ours.source!r}, MLflow's "
            f"{mv.source!r}): the two registries numbered different versions alike. Import this model into "
            "another registry, or under another name in MLflow first."
        )


def _skip_to(registry: Registry, record: ModelRecord, number: int) -> None:
    """Make ``number`` the record's next version: the numbers before it that gitreg never used
    were deleted in MLflow, so they become tombstones (as ``gitreg delete`` leaves them)."""
    first = record.next_version
    if first >= number:
        return
    gap = tuple(range(first, number))

    def change(r: ModelRecord) -> ModelRecord:
        if r.next_version != first:
            raise ConflictError(f"{r.name!r} gained versions while it was being imported; run the import again.")
        return replace(r, next_version=number, deleted=tuple(sorted({*r.deleted, *gap})))

    shown = str(first) if len(gap) == 1 else f"{first}-{number - 1}"
    registry.records.update(record.name, change, f"Skip {record.name} version {shown} (deleted in MLflow)")


def _import_stages(registry: Registry, name: str, versions: list[MlflowVersion], summary: ImportSummary) -> None:
    """Put each fixed stage's version in it. MLflow lets a stage hold several versions; a gitreg
    stage holds one, so the newest is chosen (the one MLflow's ``get_latest_versions`` returns)."""
    live = set(registry.version_numbers(name))
    for stage in FIXED_STAGES:
        held = sorted(int(v.version) for v in versions if v.current_stage == stage and int(v.version) in live)
        if not held:
            continue
        if len(held) > 1:
            summary.notes.append(
                f"{name}: MLflow has versions {', '.join(map(str, held))} in {stage}; a gitreg stage holds one, "
                f"so it holds version {held[-1]}."
            )
        if registry.stages_of(name).get(stage.lower()) != held[-1]:
            registry.promote(name, held[-1], stage)
            summary.stages += 1


def _import_aliases(registry: Registry, name: str, aliases: dict[str, int], summary: ImportSummary) -> None:
    for alias, version in sorted(aliases.items()):
        if registry.stages_of(name).get(alias.lower()) == version:
            continue
        try:
            registry.set_alias(name, alias, version)
        except (InvalidInputError, NotFoundError) as exc:
            summary.notes.append(f"{name}: alias {alias!r} (version {version}) not set: {exc}")
            continue
        summary.aliases += 1


# -- MLflow's side --------------------------------------------------------------------------


def _paged(search: Callable[..., Any], filter_string: str | None = None) -> Iterator[Any]:
    """Every item of an MLflow search, page by page."""
    token = None
    while True:
        page = search(filter_string, max_results=_PAGE, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _name_filter(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    return f"name = '{escaped}'"


def _aliases(model: Any) -> dict[str, int]:
    """A registered model's aliases, alias -> version (MLflow's stores hand out a dict, or a
    list of ``RegisteredModelAlias``)."""
    raw = model.aliases or {}
    if isinstance(raw, dict):
        return {str(a): int(v) for a, v in raw.items()}
    return {str(a.alias): int(a.version) for a in raw}


def _run_data(client: MlflowClient, run_id: str | None) -> tuple[dict[str, float], dict[str, str]]:
    """The run's metrics and params, or nothing when the tracking store does not have the run."""
    from mlflow.exceptions import MlflowException

    if not run_id:
        return {}, {}
    try:
        data = client.get_run(run_id).data
    except MlflowException:
        return {}, {}
    return dict(data.metrics), dict(data.params)


@contextmanager
def _downloaded(client: MlflowClient, tracking_uri: str, name: str, version: str) -> Iterator[Path]:
    """A temporary directory holding one MLflow version's files, downloaded through MLflow's
    artifact API from where MLflow's registry says the version's files are."""
    uri = client.get_model_version_download_uri(name, version)
    with tempfile.TemporaryDirectory(prefix="gitreg-import-") as tmp:
        local = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp, tracking_uri=tracking_uri)
        yield Path(local).absolute()


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


__all__ = ["ImportSummary", "import_registry"]
