"""Which models the server answers with, and keeping them current.

A :class:`ModelSet` holds the loaded models by name in one dict that is
*replaced*, never mutated: a request reads the dict once and keeps the model
it found, so a swap is one reference assignment, in-flight requests finish on
the old model and readers need no lock.

Following (``--follow``) is a poll, because a registry is a git repository and
git has no change notification that works for local paths and remotes alike.
The poll is cheap: one tree read per interval (:meth:`Registry.current_tree`,
:meth:`Registry.stage_trees`); only when a subtree id changed is the version
resolved, verified and loaded, off the request path. A version that fails any
of that is logged and refused, once per subtree id, and the old one keeps
serving. ``refresh`` runs before every poll: the place to fetch a remote
registry.

With ``require_signed`` a stage's model is identified by its subtree *and*
its promotion commit (:func:`gitreg.signatures.promotion_commit`): a signed
promotion of the version a refused unsigned one left in the stage is a new
commit with the same tree, and must be picked up without a restart. The
promotion commits are looked up again only when the stage's head moves.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from gitreg import signatures
from gitreg.errors import GitregError, InvalidInputError
from gitreg.flavors.requirements import warn_mismatches
from gitreg.pyfunc import PyFuncModel, load_model
from gitreg.registry import Registry, stage_ref
from gitreg.uri import ModelURI, check_followable

__all__ = ["Follower", "ModelSet", "Source", "StageSource", "UriSource", "check_followable"]

log = logging.getLogger("gitreg.server")


class Source(Protocol):
    """What to serve: a cheap probe of what it points at, and a full load."""

    def probe(self) -> dict[str, str | None]:
        """Model name -> an id that changes when the model to serve changes (None: points at nothing)."""
        ...

    def load(self, name: str) -> PyFuncModel:
        """Resolve, verify and load ``name``; raises GitregError when it cannot."""
        ...

    def describe(self) -> str: ...


class _PromotionCommits:
    """Which commit authorises each model of a stage, cached per stage head."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.heads: dict[str, str | None] = {}
        self.commits: dict[tuple[str, str], str] = {}

    def ident(self, stage: str, name: str, tree: str) -> str:
        """``tree`` with the promotion commit of ``name`` on ``stage``: changes when either does."""
        store = self.registry.store
        head = store.ref(stage_ref(stage))
        if self.heads.get(stage, "") != head:
            self.heads[stage] = head
            self.commits = {k: v for k, v in self.commits.items() if k[0] != stage}
        if (stage, name) not in self.commits:
            found = signatures.promotion_commit(store, head, name) if head else None
            self.commits[(stage, name)] = found[0] if found else ""
        return f"{tree}@{self.commits[(stage, name)]}"


class UriSource:
    """One model URI (``models:/M/Production``, ``models:/M/3``, a path...)."""

    def __init__(
        self, uri: ModelURI, registry: Registry | None, require_signed: bool = False, allow_pickle: bool | None = None
    ) -> None:
        self.uri = uri
        self.registry = registry
        self.require_signed = require_signed
        self.allow_pickle = allow_pickle
        self.name = uri.name if uri.is_registry else str(uri)
        self.promotions = _PromotionCommits(registry) if registry is not None and require_signed else None

    def probe(self) -> dict[str, str | None]:
        if self.registry is None or not self.uri.is_registry:
            return {self.name: "fixed"}
        tree = self.registry.current_tree(self.uri)
        if tree is not None and self.promotions is not None and self.uri.kind == "stage" and self.uri.stage:
            return {self.name: self.promotions.ident(self.uri.stage, self.name, tree)}
        return {self.name: tree}

    def load(self, name: str) -> PyFuncModel:
        return load_model(
            str(self.uri), self.registry, require_signed=self.require_signed, allow_pickle=self.allow_pickle
        )

    def describe(self) -> str:
        return str(self.uri)


class StageSource:
    """Every model in one stage, each at ``/models/<name>/``."""

    def __init__(
        self, stage: str, registry: Registry, require_signed: bool = False, allow_pickle: bool | None = None
    ) -> None:
        self.stage = stage
        self.registry = registry
        self.require_signed = require_signed
        self.allow_pickle = allow_pickle
        self.promotions = _PromotionCommits(registry) if require_signed else None

    def probe(self) -> dict[str, str | None]:
        trees = self.registry.stage_trees(self.stage)
        if self.promotions is None:
            return dict(trees)
        promotions = self.promotions
        return {name: promotions.ident(self.stage, name, tree) for name, tree in trees.items()}

    def load(self, name: str) -> PyFuncModel:
        uri = ModelURI(kind="stage", name=name, stage=self.stage)
        return load_model(str(uri), self.registry, require_signed=self.require_signed, allow_pickle=self.allow_pickle)

    def describe(self) -> str:
        return f"stage {self.stage}"


class ModelSet:
    """The models being served, by name, swapped atomically by :meth:`sync`.

    ``keep_missing``: when the source stops pointing at a model (an emptied
    stage), keep serving the last one (one URI) rather than dropping it (a
    whole stage, where leaving the stage means leaving service).
    ``default_name`` is the model ``/invocations`` answers with.
    """

    def __init__(
        self,
        source: Source,
        *,
        keep_missing: bool,
        default_name: str = "",
        refresh: Callable[[], object] | None = None,
    ) -> None:
        self.source = source
        self.default_name = default_name
        self.keep_missing = keep_missing
        self.refresh = refresh
        self.models: dict[str, PyFuncModel] = {}
        self.loaded = False
        self._seen: dict[str, str | None] = {}  # name -> probe id last acted on (loaded or refused)
        self._lock = threading.Lock()  # one sync at a time; readers never take it

    def get(self, name: str) -> PyFuncModel | None:
        return self.models.get(name)

    def sync(self, *, initial: bool = False) -> list[str]:
        """Load what changed since the last sync and swap it in; return what happened, one line each.

        With ``initial`` any failure raises (the server must not start on a
        model it cannot load); afterwards failures are logged and the model
        already serving keeps serving.
        """
        with self._lock:
            if self.refresh is not None:
                self.refresh()
            probed = self.source.probe()
            current = self.models
            updated = dict(current)
            events: list[str] = []
            refusals: list[str] = []
            for name, ident in probed.items():
                if ident is None:
                    if initial:
                        self.source.load(name)  # raises the NotFoundError that says why
                    if self._seen.get(name) is not None:
                        events.append(f"{name}: {self.source.describe()} points at no version; still serving the last")
                    self._seen[name] = None
                    continue
                if self._seen.get(name) == ident:
                    continue  # unchanged, or refused before: do not retry the same content every poll
                self._seen[name] = ident
                try:
                    model = self.source.load(name)
                except Exception as exc:
                    if initial:
                        raise
                    old = current.get(name)
                    still = f"; still serving version {old.metadata.version}" if old else ""
                    refusals.append(f"refusing the new version of {name}: {exc}{still}")
                    continue
                _warn_requirements(model)
                updated[name] = model
                events.append(_swap_line(name, current.get(name), model))
            if not self.keep_missing:
                for name in [n for n in updated if n not in probed]:
                    del updated[name]
                    self._seen.pop(name, None)
                    events.append(f"{name}: left {self.source.describe()}; no longer served")
            self.models = updated  # the one atomic swap
            self.loaded = True
        for line in refusals:
            log.error("%s", line)
        for line in events:
            log.info("%s", line)
        return refusals + events


def _warn_requirements(model: PyFuncModel) -> None:
    """One warning line when this Python lacks what the version was saved with (once per version)."""
    m = model.metadata
    warn_mismatches(Path(m.path), f"models:/{m.name}/{m.version}" if m.version else m.uri)


def _swap_line(name: str, old: PyFuncModel | None, new: PyFuncModel) -> str:
    v = new.metadata.version
    if old is None:
        return f"{name}: serving version {v}"
    return f"{name}: swapped version {old.metadata.version} for version {v}"


class Follower:
    """A daemon thread calling :meth:`ModelSet.sync` every ``interval`` seconds.

    Threads do not survive ``fork``, so :meth:`ensure_running` starts one per
    process: the gunicorn runner calls it as each worker boots, and the app
    calls it on every request (a pid comparison) so any WSGI server works.
    """

    def __init__(self, models: ModelSet, interval: float) -> None:
        if interval <= 0:
            raise InvalidInputError(f"The follow interval must be positive, got {interval}.")
        self.models = models
        self.interval = interval
        self._pid = 0
        self._stop = threading.Event()

    def ensure_running(self) -> None:
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._stop = threading.Event()
        threading.Thread(target=self._run, args=(self._stop,), name="gitreg-follow", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._pid = 0

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                self.models.sync()
            except (GitregError, OSError) as exc:
                log.error("checking %s for a new version failed: %s", self.models.source.describe(), exc)
            except Exception:
                log.exception("checking %s for a new version failed", self.models.source.describe())
