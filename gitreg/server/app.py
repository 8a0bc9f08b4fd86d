"""``create_app``: the scoring server as a WSGI application.

Importable so that users can run it under any WSGI server::

    from gitreg.server import create_app
    application = create_app("models:/LogisticRegression/Production", follow=True)

``gitreg serve`` runs the same app under gunicorn.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from gitreg.extras import require

with require("serve"):
    import falcon

import gitreg
from gitreg import uri as uris
from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.locate import open_registry
from gitreg.names import check_stage_name, display_stage
from gitreg.registry import Registry
from gitreg.server import resources, v2
from gitreg.server.errors import ServerErrors
from gitreg.server.follow import Follower, ModelSet, StageSource, UriSource, check_followable
from gitreg.server.hosts import HostGuard, HostPolicy

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_MAX_BODY", "ScoringApp", "create_app"]

log = logging.getLogger("gitreg.server")

DEFAULT_MAX_BODY = 50 * 2**20
DEFAULT_INTERVAL = 2.0


class ScoringApp(falcon.App):
    """A ``falcon.App`` that also knows what it serves.

    ``models`` is the :class:`ModelSet` answering requests; ``follower`` the
    watcher keeping it current under ``follow`` (None otherwise), which a WSGI
    server that forks should start in each worker with
    ``app.start_following()`` (the app also starts it on its first request).
    """

    def __init__(self, models: ModelSet, follower: Follower | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.models = models
        self.follower = follower

    def start_following(self) -> None:
        if self.follower is not None:
            self.follower.ensure_running()

    def stop_following(self) -> None:
        """Stop watching in this process (the thread ends within one interval)."""
        if self.follower is not None:
            self.follower.stop()

    def describe(self) -> str:
        """One line naming what answers, for the log and the 'ready' line."""
        models = self.models.models
        if self.models.default_name:
            model = models.get(self.models.default_name)
            if model is None:
                return "no model yet"
            m = model.metadata
            return f"{m.name or m.path} version {m.version} ({m.uri})" if m.version else f"{m.path} ({m.uri})"
        served = ", ".join(f"{n} version {m.metadata.version}" for n, m in sorted(models.items()))
        return f"{self.models.source.describe()}: {served or 'no models yet'}"


def create_app(
    model_uri: str | None = None,
    *,
    registry: str | os.PathLike[str] | Registry | None = None,
    stage: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    follow: bool = False,
    interval: float = DEFAULT_INTERVAL,
    debug: bool = False,
    refresh: Callable[[], object] | None = None,
    background_load: bool = False,
    require_signed: bool = False,
    allowed_hosts: HostPolicy | Iterable[str] = (),
    allow_pickle: bool | None = None,
) -> ScoringApp:
    """Build the scoring app for ``model_uri`` or, with ``stage``, for every model in a stage.

    One model: ``POST /invocations``, ``GET /metadata``. A stage:
    ``POST /models/<name>/invocations``, ``GET /models/<name>/metadata`` and
    ``GET /metadata`` listing them all. Both: ``GET /ping``, ``/health``,
    ``/version``, and the Open Inference Protocol's ``/v2/...`` endpoints
    (:mod:`gitreg.server.v2`) for the same models.

    The model is loaded before this returns (so a bad URI or a tampered
    version fails here: NotFoundError, IntegrityError, InvalidInputError),
    unless ``background_load``, where ``/ping`` answers 503 until it is
    loaded. ``follow`` re-checks the stage, alias or ``latest`` every
    ``interval`` seconds and swaps in a new version atomically; ``refresh``
    runs before each check (e.g. to fetch a remote registry). ``debug`` adds
    tracebacks to 500 responses. Bodies over ``max_body`` bytes get a 413.
    ``require_signed`` loads only versions whose tag (and promotion, for a
    stage or alias) git verifies as signed (:mod:`gitreg.signatures`).
    ``allow_pickle=False`` refuses pickled versions (as
    :func:`gitreg.pyfunc.load_model`; registry.yaml may refuse them anyway).

    Requests must name ``localhost``, ``127.0.0.1``, ``[::1]`` or one of
    ``allowed_hosts`` in ``Host`` (else 421), and a write sent with an
    ``Origin`` must come from that host (else 403): :mod:`gitreg.server.hosts`.
    Raises InvalidInputError for an allowed host that is not a host name.
    """
    if (model_uri is None) == (stage is None):
        raise InvalidInputError("Give a model URI (-m) or a stage (--stage) to serve, not both and not neither.")
    if max_body < 1:
        raise InvalidInputError(f"max_body must be a positive number of bytes, got {max_body}.")
    hosts = HostPolicy.of(allowed_hosts)
    if stage is not None:
        models = _stage_models(check_stage_name(stage), registry, require_signed, allow_pickle, refresh)
    else:
        models = _uri_models(str(model_uri), registry, follow, require_signed, allow_pickle, refresh)
    follower = Follower(models, interval) if follow else None
    app = ScoringApp(models, follower, media_type=falcon.MEDIA_JSON, middleware=[v2.ProtocolErrors(), HostGuard(hosts)])
    ServerErrors(debug).install(app)
    _add_routes(app, stage, max_body)
    if background_load:
        threading.Thread(target=_load_logged, args=(models,), name="gitreg-load", daemon=True).start()
    else:
        _load(models, stage, follow)
    return app


def _stage_models(
    stage: str, registry: Any, require_signed: bool, allow_pickle: bool | None, refresh: Callable[[], object] | None
) -> ModelSet:
    """Every model of ``stage`` (canonical), each under its own name."""
    stage_registry = open_registry(registry)
    source = StageSource(stage, stage_registry, require_signed, allow_pickle)
    return ModelSet(source, keep_missing=False, refresh=refresh or _fetcher(stage_registry))


def _uri_models(
    model_uri: str,
    registry: Any,
    follow: bool,
    require_signed: bool,
    allow_pickle: bool | None,
    refresh: Callable[[], object] | None,
) -> ModelSet:
    """The one model ``model_uri`` names, as the default of its set."""
    parsed = uris.parse(model_uri)
    if follow:
        check_followable(parsed)
    reg = open_registry(registry) if parsed.is_registry else None
    source = UriSource(parsed, reg, require_signed, allow_pickle)
    return ModelSet(source, keep_missing=True, default_name=source.name, refresh=refresh or _fetcher(reg))


def _add_routes(app: ScoringApp, stage: str | None, max_body: int) -> None:
    """MLflow's routes (per model under ``/models/<name>`` for a stage), health, version and ``/v2``."""
    models = app.models
    on_request = app.follower.ensure_running if app.follower is not None else _nothing
    health = resources.Health(models, on_request)
    app.add_route("/ping", health)
    app.add_route("/health", health)
    app.add_route("/version", resources.Version(gitreg.__version__))
    invocations = resources.Invocations(models, max_body, on_request)
    if stage is not None:
        app.add_route("/models/{name}/invocations", invocations)
        app.add_route("/models/{name}/metadata", resources.Metadata(models))
        app.add_route("/metadata", resources.StageMetadata(models, display_stage(check_stage_name(stage))))
    else:
        app.add_route("/invocations", invocations)
        app.add_route("/metadata", resources.Metadata(models))
    v2.add_routes(app, models, version=gitreg.__version__, max_body=max_body, on_request=on_request)


def _load(models: ModelSet, stage: str | None, follow: bool) -> None:
    """Load what is served now; a stage holding nothing is refused unless followed."""
    models.sync(initial=True)
    if stage is not None and not models.models and not follow:
        raise NotFoundError(
            f"Stage {display_stage(check_stage_name(stage))!r} holds no models; promote one first "
            "(gitreg promote NAME VERSION STAGE), or pass --follow to serve them as they arrive."
        )


def _nothing() -> None:
    pass


def _load_logged(models: ModelSet) -> None:
    try:
        models.sync(initial=True)
    except Exception:
        log.exception("loading %s failed; the server answers 503", models.source.describe())


def _fetcher(registry: Registry | None) -> Callable[[], object] | None:
    """For a registry opened from a git URL, fetch before each follow poll
    (at most once per freshness window) so a merged promotion is seen."""
    from gitreg.remote import RemoteRegistry

    if isinstance(registry, RemoteRegistry):
        return lambda: registry.refresh(force=True)
    return None
