"""``gitreg.Client``: MLflow's ``MlflowClient`` registry methods over a git registry.

Every write is a commit (or branch move) in the registry; nothing here keeps
state of its own, so two clients on one registry always agree.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

from gitreg import filters, overview
from gitreg.entities import ModelVersion, PagedList, RegisteredModel
from gitreg.errors import GitregError, IntegrityError, InvalidInputError, NotFoundError
from gitreg.locate import open_registry
from gitreg.manifest import ModelRecord
from gitreg.names import FIXED_STAGES, Stage, check_model_name, check_stage_name, check_version, display_stage
from gitreg.registry import Registry, VersionRef
from gitreg.registry.activity import Activity

log = logging.getLogger("gitreg")


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
        self,
        filter_string: str | None = None,
        max_results: int = filters.MODELS.default_max_results,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """MLflow's search: the models ``filter_string`` selects (``name`` and
        ``tags.<key>``; see :mod:`gitreg.filters`), sorted by ``order_by``
        (``name``, ``creation_timestamp``, ``last_updated_timestamp``, each
        ``ASC`` or ``DESC``; default and tie-breaker ``name ASC``), at most
        ``max_results`` (1 to 1000) of them. The list's ``token`` is the
        ``page_token`` of the next page, None on the last. Only the models on
        the page are described unless the order needs every candidate's
        latest version. Raises InvalidInputError for a malformed filter,
        order, size or token."""
        grammar = filters.MODELS
        flt = filters.parse_model_filter(filter_string)
        order = filters.parse_order_by(order_by, grammar)
        size = filters.check_max_results(max_results, grammar)
        query = filters.Query(grammar, flt, order)
        offset = query.offset(page_token)
        reg = self.registry
        selected = _select_models(reg, flt, need_records={o.key for o in order} != {"name"})
        if all(o.key in ("name", "creation_timestamp") for o in order):

            def key_of(item: tuple[str, ModelRecord | None], key: str) -> object:
                name, record = item
                return record.created if key == "creation_timestamp" and record is not None else name

            ordered = filters.sort(selected, order, key_of)
            page = _describe_models(reg, [name for name, _ in ordered[offset : offset + size]])
            total = len(ordered)
        else:
            described = filters.sort(_describe_models(reg, [name for name, _ in selected]), order, getattr)
            page, total = described[offset : offset + size], len(described)
        return PagedList(page, query.token(offset + size) if offset + size < total else None)

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

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = filters.VERSIONS.default_max_results,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """MLflow's search: the versions ``filter_string`` selects (``name``,
        ``version_number``, ``run_id``, ``source_path``, ``tags.<key>``; see
        :mod:`gitreg.filters`), sorted by ``order_by`` (``name``,
        ``version_number``, ``creation_timestamp``, ``last_updated_timestamp``;
        default MLflow's ``last_updated_timestamp DESC, name ASC,
        version_number DESC``), at most ``max_results`` (1 to 200,000). The
        list's ``token`` is the ``page_token`` of the next page, None on the last.

        A ``name =`` or ``name IN`` clause limits the models read to those;
        ordered by name and version number only, versions are read in order
        until the page is full, so ``search_model_versions("name='M'",
        order_by=["version_number DESC"], max_results=1)`` reads one version.
        Raises InvalidInputError for a malformed filter, order, size or token."""
        grammar = filters.VERSIONS
        flt = filters.parse_version_filter(filter_string)
        order = filters.parse_order_by(order_by, grammar)
        size = filters.check_max_results(max_results, grammar)
        query = filters.Query(grammar, flt, order)
        offset = query.offset(page_token)
        reg = self.registry
        # What the record on main answers (name, number, tags) is tested before any version is read.
        cheap = flt.only(lambda c: c.key in ("name", "version_number") or c.tag is not None)
        costly = flt.only(lambda c: c not in cheap.clauses)
        candidates: list[tuple[str, int, ModelRecord]] = []
        for name in _candidate_names(reg, flt):
            try:
                record = reg.record(name)
            except NotFoundError:
                continue
            for number in reg.version_numbers(name, record):
                tags = record.version_notes(number).tags
                if cheap.matches(_fields(name=name, version_number=number, tags=tags)):
                    candidates.append((name, number, record))
        reader = _VersionReader(reg)
        end = offset + size
        if all(o.key in ("name", "version_number") for o in order):
            ordered = filters.sort(candidates, order, lambda c, key: c[0] if key == "name" else c[1])
            if not costly:
                refs = [got for got in map(reader.ref, ordered[offset:end]) if got is not None]
                return PagedList(reader.views(refs), query.token(end) if end < len(ordered) else None)
            kept: list[tuple[VersionRef, ModelRecord]] = []
            for candidate in ordered:
                got = reader.ref(candidate)
                if got is not None and costly.matches(_ref_fields(*got)):
                    kept.append(got)
                    if len(kept) > end:
                        break
            found = reader.views(kept)
        else:
            read = (reader.ref(c) for c in candidates)
            matched = reader.views([got for got in read if got is not None and costly.matches(_ref_fields(*got))])
            found = filters.sort(matched, order, _version_sort_key)
        return PagedList(found[offset:end], query.token(end) if end < len(found) else None)

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        """For each stage asked (default, or an empty list: every fixed stage and
        "None"), the newest version it holds; for "None", the newest version in
        no fixed stage. A stage may also be an alias. Reads the versions it
        returns and no others."""
        reg = self.registry
        record = reg.record(check_model_name(name))
        branches = reg.stage_names()  # listed once, for the stages held and the history read
        held = reg.stages_of(name, branches)
        wanted: list[Stage] = []
        for asked in stages or [*FIXED_STAGES, "None"]:
            parsed = Stage.parse(asked)
            if parsed not in wanted:
                wanted.append(parsed)
        numbers: list[int] = []
        for stage in wanted:
            if stage.is_none:
                in_fixed = {v for s, v in held.items() if Stage(s).fixed}
                free = [n for n in reg.version_numbers(name, record) if n not in in_fixed]
                found = free[-1] if free else None
            else:
                found = held.get(stage.name)
            if found is not None and found not in numbers:
                numbers.append(found)
        refs = [reg.version_ref(name, n, record=record) for n in numbers]
        return reg.reader.version_views(refs, {name: record}, {name: held}, branches)

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Register the version ``src_model_uri`` (a ``models:/`` URI: a version,
        stage, alias or latest) names as the next version of ``dst_name``,
        creating that model if it does not exist, as MLflow's
        ``copy_model_version``. The copy has the source's files (verified
        against its manifest), flavor, signature, metrics, params, run id,
        source, description and tags; it is a new version, in no stage."""
        from gitreg import package
        from gitreg import uri as uris
        from gitreg.cache import materialize

        check_model_name(dst_name)
        parsed = uris.parse(str(src_model_uri))
        if not parsed.is_registry:
            raise InvalidInputError(
                f"Unsupported source model URI {str(src_model_uri)!r}: copy_model_version copies a registry "
                "version, named with a 'models:/' URI such as models:/NAME/1 or models:/NAME@champion."
            )
        reg = self.registry
        ref = reg.resolve(parsed).ref
        src = reg.reader.model_version(ref, held={}, changes=Activity())  # its times are not copied
        directory = materialize(reg.store, ref.tree, ref.manifest, f"{ref.name} version {ref.version} ({ref.tag})")
        pkg = package.from_directory(
            directory,
            source=src.source or src.uri,
            metrics=src.metrics,
            params=src.params,
            run_id=src.run_id,
        )
        # Exactly the version's artifacts: the cache directory also holds its own bookkeeping files.
        artifacts = {a.path for a in ref.manifest.artifacts}
        pkg = dataclasses.replace(pkg, files=tuple(f for f in pkg.files if f in artifacts))
        copied = reg.register(dst_name, pkg, description=src.description, tags=src.tags, create=True)
        self._flush_warnings()
        return copied

    def get_model_version_stages(self, name: str, version: int | str) -> list[str]:
        """The stages the version can be moved to: "None" and the stages
        ``registry.yaml`` declares (by default MLflow's Staging, Production,
        Archived). Raises NotFoundError if the version does not exist."""
        reg = self.registry
        reg.version_ref(check_model_name(name), check_version(version))
        return ["None", *(display_stage(s) for s in reg.config().stages)]

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
        """Point ``alias`` at a version; a stage name is refused (stages move by transition)."""
        self.registry.set_alias(check_model_name(name), alias, check_version(version))
        self._flush_warnings()

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self.registry.delete_alias(check_model_name(name), alias)
        self._flush_warnings()

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


def model_names_matching(registry: Registry, filter_string: str | None) -> list[str]:
    """The names of the registered models an MLflow filter selects (what
    :meth:`Client.search_registered_models` finds, without describing each
    model), in the registry's listing order. Raises InvalidInputError for a
    malformed filter."""
    selected = _select_models(registry, filters.parse_model_filter(filter_string), need_records=False)
    return sorted((name for name, _ in selected), key=str.lower)


def _candidate_names(reg: Registry, flt: filters.Filter) -> list[str]:
    """The model names ``flt``'s name clauses allow: from the filter itself when
    it names them (``name =``, ``name IN``), so no other model is read."""
    exact = flt.exact_names()
    names = reg.model_names() if exact is None else sorted(n for n in exact if _is_model_name(n))
    by_name = flt.on("name")
    return [n for n in names if by_name.matches(_fields(name=n))]


def _select_models(reg: Registry, flt: filters.Filter, *, need_records: bool) -> list[tuple[str, ModelRecord | None]]:
    """The models ``flt`` selects, each with its record when one was read
    (always with ``need_records``, and whenever a clause needs a tag)."""
    names = _candidate_names(reg, flt)
    if not need_records and flt.exact_names() is None and not flt.on(filters.TAG_PREFIX):
        return [(n, None) for n in names]
    found = overview.records(reg, names)  # existence too, for names taken from the filter
    return [(n, rec) for n, rec in found.items() if flt.matches(_fields(name=n, tags=rec.tags))]


def _describe_models(reg: Registry, names: list[str]) -> list[RegisteredModel]:
    """``get_model`` for each of ``names``, fetched in a batch and dated by one read of the
    history; a model deleted meanwhile is left out."""
    stages = reg.stage_names()  # listed once, not once per model

    def failed(name: str, exc: GitregError) -> None:
        if not isinstance(exc, NotFoundError):  # one bad model fails only questions about it
            log.warning("model %r is left out of this listing: %s Run 'gitreg check' to see what is wrong.", name, exc)

    with reg.store.snapshot():
        reg.prefetch_models(names, stages)
        return reg.reader.get_models(names, stages=stages, failed=failed)


class _VersionReader:
    """Model versions read one at a time, each model's stages listed once, and their views made
    in a batch (one read of the history dates them all)."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self.held: dict[str, dict[str, int]] = {}
        self.stages: list[str] | None = None

    def ref(self, candidate: tuple[str, int, ModelRecord]) -> tuple[VersionRef, ModelRecord] | None:
        name, number, record = candidate
        try:
            return self.reg.version_ref(name, number, record=record), record
        except NotFoundError:  # deleted since the record was read
            return None
        except (InvalidInputError, IntegrityError) as exc:  # one bad version fails only questions about it
            log.warning("version %d of %r is left out of this listing: %s", number, name, exc)
            return None

    def views(self, refs: list[tuple[VersionRef, ModelRecord]]) -> list[ModelVersion]:
        records = {ref.name: record for ref, record in refs}
        if self.stages is None:
            self.stages = self.reg.stage_names()  # listed once, for the stages held and the history read
        for name in records:
            if name not in self.held:
                self.held[name] = self.reg.stages_of(name, self.stages)
        return self.reg.reader.version_views([ref for ref, _ in refs], records, self.held, self.stages)


def _fields(*, name: str, version_number: int | None = None, tags: dict[str, str] | None = None) -> filters.Getter:
    """A filter getter over what a model's record answers without reading a version."""

    def get(key: str) -> str | int | None:
        if key == "name":
            return name
        if key == "version_number":
            return version_number
        return (tags or {}).get(key[len(filters.TAG_PREFIX) :]) if key.startswith(filters.TAG_PREFIX) else None

    return get


def _ref_fields(ref: VersionRef, record: ModelRecord) -> filters.Getter:
    """A filter getter over a version's manifest and notes (no view of it made yet)."""

    def get(key: str) -> str | int | None:
        if key.startswith(filters.TAG_PREFIX):
            return record.version_notes(ref.version).tags.get(key[len(filters.TAG_PREFIX) :])
        fields: dict[str, str | int | None] = {
            "name": ref.name,
            "version_number": ref.version,
            "run_id": ref.manifest.provenance.run_id,
            "source_path": ref.manifest.provenance.source,
        }
        return fields.get(key)

    return get


def _version_sort_key(mv: ModelVersion, key: str) -> object:
    return mv.version if key == "version_number" else getattr(mv, key)


def _is_model_name(name: str) -> bool:
    try:
        check_model_name(name)
    except InvalidInputError:
        return False
    return True
