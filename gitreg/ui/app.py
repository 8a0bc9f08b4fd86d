"""The registry browser as a Falcon WSGI app: resources fetch registry data,
:mod:`gitreg.ui.pages` renders it, :mod:`gitreg.ui.errors` maps failures.

Every request must name an allowed host, and a write must not come from
another origin (:mod:`gitreg.server.hosts`, the rule the scoring server
applies too). Writes exist only when the app is created with
``allow_writes``; each is a POST form checked against the CSRF token
(:mod:`gitreg.ui.csrf`), answered by a redirect to the page it changed (so
reloading never repeats it), or by the same page with the refusal shown and
nothing changed. The message shown after a redirect is chosen by a key in
its query (``done=``), never read from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

from gitreg.extras import require

with require("ui"):
    import falcon

from gitreg import filters, forge, overview, runs, saving
from gitreg.client import model_names_matching
from gitreg.diff import diff_versions
from gitreg.errors import GitregError, InvalidInputError, NotFoundError
from gitreg.history import model_history
from gitreg.locate import open_registry
from gitreg.names import FIXED_STAGES, Stage, check_stage_name, check_version, is_fixed_stage
from gitreg.registry import Registry, layout
from gitreg.registry.proposal import branch_name
from gitreg.server.hosts import HostGuard, HostPolicy
from gitreg.store import writing_as
from gitreg.ui import errors, location, pages, snippets
from gitreg.ui.attribution import TrustedHeaders
from gitreg.ui.csrf import COOKIE, FIELD, CsrfGuard
from gitreg.ui.html import Safe, page, url
from gitreg.ui.listing import Listing
from gitreg.ui.pages import writes

STATIC_DIR = Path(__file__).parent / "static"
PER_PAGE = 50
# What a redirect after a successful write says on the page it lands on, by
# its ``done=`` key; an unknown key says nothing. "proposed" is the version
# page's own (:meth:`VersionResource.proposed`): it names a branch that exists.
DONE = {
    "description": "Description saved.",
    "tag_set": "Tag set.",
    "tag_deleted": "Tag deleted.",
    "promoted": "Promoted.",
    "registered": "Registered as a new version.",
    "alias_set": "Alias set.",
    "alias_removed": "Alias removed.",
    "demoted": "The version left its stage.",
    "version_deleted": "Version deleted.",
    "model_deleted": "Model deleted.",
}
PROPOSED = "Proposal branch {branch} created: push it and open a pull request to promote."
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass
class Settings:
    registry: str  # path of the registry the app browses
    allow_writes: bool = False
    # Hosts answered besides the loopback names (gitreg.server.hosts): names, or
    # the policy ``gitreg ui`` builds from its --host and --allowed-host.
    allowed_hosts: HostPolicy | tuple[str, ...] = ()
    # Request headers an authenticating proxy sets to name the person writing
    # (gitreg.ui.attribution); by default from GITREG_UI_TRUST_USER_HEADER / _EMAIL_HEADER.
    trusted: TrustedHeaders = field(default_factory=TrustedHeaders.from_env)


def _cookie(req: falcon.Request) -> str | None:
    values = req.get_cookie_values(COOKIE)
    return values[0] if values else None


class _Security:
    """Per-browser CSRF nonce cookie and protective headers on every response."""

    def __init__(self, guard: CsrfGuard, allow_writes: bool) -> None:
        self.guard = guard
        self.allow_writes = allow_writes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        nonce = _cookie(req)
        req.context.new_nonce = None
        if self.allow_writes and (not nonce or len(nonce) > 64):
            nonce = req.context.new_nonce = CsrfGuard.new_nonce()
        req.context.nonce = nonce

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: object, ok: bool) -> None:
        if getattr(req.context, "new_nonce", None):
            resp.set_cookie(COOKIE, req.context.new_nonce, secure=False, http_only=True, same_site="Strict", path="/")
        resp.set_header("Content-Security-Policy", CSP)
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "same-origin")
        resp.set_header("Cache-Control", "no-store")


class _Base:
    def __init__(self, settings: Settings, guard: CsrfGuard) -> None:
        self.settings = settings
        self.guard = guard

    @property
    def registry(self) -> Registry:
        return open_registry(self.settings.registry)

    def writer(self, req: falcon.Request) -> tuple[str, bool]:
        """Whom this request's writes are committed as, and whether the proxy said so."""
        try:
            who = self.settings.trusted.identity(req.headers)
        except InvalidInputError as exc:
            return f"nobody: {exc}", True
        return (str(who), True) if who is not None else (str(self.registry.store.identity()), False)

    @contextmanager
    def writing(self, req: falcon.Request) -> Iterator[None]:
        """Writes inside are authored by the person the trusted proxy header names (if trusted)."""
        with writing_as(self.settings.trusted.identity(req.headers)):
            yield

    def forms(self, req: falcon.Request) -> pages.Forms | None:
        if not self.settings.allow_writes or not req.context.nonce:
            return None
        return pages.Forms(self.guard.token(req.context.nonce))

    def send(
        self,
        resp: falcon.Response,
        title: str,
        body: Safe,
        *,
        active: str = "models",
        req: falcon.Request,
        error: str = "",
        status: int = 200,
        flash: str | None = None,
    ) -> None:
        """Answer with a whole page; ``flash`` (default: the DONE text of the
        query's ``done=`` key) is shown unless there is an ``error``."""
        if flash is None:
            flash = DONE.get(req.get_param("done") or "", "")
        reg = self.registry
        banner = location.describe(reg)
        if self.settings.allow_writes:
            banner = Safe(banner + writes.writer_note(*self.writer(req)))
        resp.status = status
        resp.content_type = falcon.MEDIA_HTML
        error = errors.for_web(error)
        resp.text = page(title, body, active=active, flash="" if error else flash, error=error, banner=banner)

    def form(self, req: falcon.Request) -> dict[str, str]:
        """The POSTed form, after checking writes are on and the CSRF token is good."""
        if not self.settings.allow_writes:
            raise falcon.HTTPForbidden(
                title="Read-only", description="This registry browser is read-only; start it with --allow-writes."
            )
        try:
            media = req.get_media(default_when_empty={})
        except falcon.HTTPError:
            media = {}
        fields = {k: (v[-1] if isinstance(v, list) else v) for k, v in dict(media or {}).items()}
        fields = {k: v for k, v in fields.items() if isinstance(v, str)}
        if not self.guard.valid(_cookie(req), fields.get(FIELD)):
            raise falcon.HTTPForbidden(
                title="Forbidden",
                description="The form's security token is missing or out of date; reload the page and try again.",
            )
        return fields

    def confirm(
        self, req: falcon.Request, resp: falcon.Response, action: str, question: str, form: dict[str, str], button: str
    ) -> bool:
        """True when ``form`` carries the confirmation; else answer with the page asking for it."""
        if form.get(writes.CONFIRM) == writes.YES:
            return True
        forms = self.forms(req)
        assert forms is not None  # form() let the POST through: writes are on
        fields = {k: v for k, v in form.items() if k != FIELD}
        body = writes.confirm_page(forms, action, question, fields, button, action)
        self.send(resp, "Please confirm", body, req=req)
        return False

    def redirect(self, reg: Registry, to: str, done: str) -> falcon.HTTPSeeOther:
        """The answer to a successful write: the page it changed, saying so.
        Warnings the write left (e.g. a work tree not synced) go to the log."""
        reg.flush_warnings()
        return falcon.HTTPSeeOther(to + ("&" if "?" in to else "?") + f"done={done}")


def _apply_metadata(reg: Registry, name: str, version: int | None, form: dict[str, str]) -> str:
    """Description and tag edits shared by the model and version pages; returns the DONE code."""
    action = form.get("action", "")
    if action == "description":
        text = form.get("description", "").replace("\r\n", "\n")
        if version is None:
            reg.update_model(name, text)
        else:
            reg.update_version(name, version, description=text)
        return "description"
    if action in ("set_tag", "delete_tag"):
        key = form.get("key", "")
        value = form.get("value", "") if action == "set_tag" else None
        if version is None:
            reg.set_model_tag(name, key, value)
        else:
            reg.update_version(name, version, tags={key: value})
        return "tag_set" if value is not None else "tag_deleted"
    raise InvalidInputError(f"Unknown action {action[:40]!r}.")


class ModelsResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        reg = self.registry
        query = (req.get_param("q") or "").strip()
        error, status = "", 200
        try:
            # A query with a comparison in it is an MLflow filter, parsed as the client parses
            # one: a malformed filter is the page's error (400), never an empty listing.
            if filters.looks_like_filter(query):
                names = model_names_matching(reg, query)
            else:
                names = overview.search(reg, query)
        except InvalidInputError as exc:
            names, error, status = [], str(exc), errors.status_for(exc)
        listing = Listing.parse(req.get_param, pages.MODEL_SORTS, "name", "asc")
        per_page = listing.per_page
        pages_total = max(1, math.ceil(len(names) / per_page))
        page_no = min(req.get_param_as_int("page", min_value=1) or 1, pages_total)
        window = slice((page_no - 1) * per_page, page_no * per_page)
        if listing.sort == "name":
            ordered = sorted(names, reverse=listing.descending)
            shown = overview.summaries(reg, ordered[window])
        else:  # by latest version or last change: every model's summary is read (about 1 ms a model)
            every = overview.summaries(reg, names)
            key = (lambda m: m.latest or 0) if listing.sort == "latest" else (lambda m: m.last_change)
            shown = sorted(every, key=key, reverse=listing.descending)[window]
        body = pages.models_page(
            shown,
            query=query,
            total=len(names),
            page_no=page_no,
            pages=pages_total,
            per_page=per_page,
            refused=bool(error),
            listing=listing,
        )
        self.send(resp, "Models", body, req=req, error=error, status=status)


class ModelResource(_Base):
    def render(self, req: falcon.Request, resp: falcon.Response, name: str, error: str = "", status: int = 200) -> None:
        reg = self.registry
        record = reg.record(name)
        numbers = reg.version_numbers(name, record)
        listing = Listing.parse(req.get_param, pages.version_sorts(req.get_param("sort")), "version", "desc")
        per_page = listing.per_page
        pages_total = max(1, math.ceil(len(numbers) / per_page))
        page_no = min(req.get_param_as_int("page", min_value=1) or 1, pages_total)
        if listing.sort == "version":  # only the versions on the page are read
            ordered = numbers[::-1] if listing.descending else list(numbers)
            shown = reg.list_versions(name, sorted(ordered[(page_no - 1) * per_page : page_no * per_page]))
            shown.sort(key=lambda v: v.version, reverse=listing.descending)
        else:  # by a metric, time or author: every version is read
            shown = pages.sort_versions(reg.list_versions(name, numbers), listing)
            shown = shown[(page_no - 1) * per_page : page_no * per_page]
        body = pages.model_page(
            record,
            shown,
            model_history(reg, name, latest=pages.TIMELINE_EVENTS + 1),  # one more: are there more?
            metric=req.get_param("metric"),
            forms=self.forms(req),
            numbers=numbers,
            page_no=page_no,
            pages=pages_total,
            listing=listing,
            remote=location.remote_of(reg),
        )
        self.send(resp, name, body, req=req, error=error, status=status)

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self.render(req, resp, name)

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        form = self.form(req)
        reg = self.registry
        reg.record(name)
        try:
            with self.writing(req):
                if form.get("action") == "delete":
                    question = f"Delete model {name} and all its versions? It leaves main and every stage."
                    if not self.confirm(req, resp, url("models", name), question, form, f"Yes, delete {name}"):
                        return
                    reg.delete_model(name)
                    raise self.redirect(reg, "/", "model_deleted")
                done = _apply_metadata(reg, name, None, form)
        except GitregError as exc:
            self.render(req, resp, name, str(exc), errors.status_for(exc))
            return
        raise self.redirect(reg, url("models", name), done)


class VersionResource(_Base):
    def render(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        name: str,
        version: str,
        error: str = "",
        status: int = 200,
        flash: str | None = None,
    ) -> None:
        reg = self.registry
        ref = reg.version_ref(name, check_version(version))
        mv = reg.model_version(ref)
        example = (
            reg.store.read_blob(f"{ref.tree}:{ref.manifest.input_example}") if ref.manifest.input_example else None
        )
        body = pages.version_page(
            mv,
            ref,
            example,
            snippets.for_version(name, ref.version, location.name_of(reg), example),
            stages=declared_stages(reg),
            forms=self.forms(req),
            remote=location.remote_of(reg),
        )
        if flash is None:
            flash = self.proposed(req, reg, name, ref.version) if req.get_param("done") == "proposed" else None
        self.send(resp, f"{name} v{ref.version}", body, req=req, error=error, status=status, flash=flash)

    @staticmethod
    def proposed(req: falcon.Request, reg: Registry, name: str, version: int) -> str:
        """The flash after a proposal: the branch named by the server from the
        query's stage, only if that branch exists (else nothing)."""
        try:
            stage = check_stage_name(req.get_param("stage") or "")
        except InvalidInputError:
            return ""
        branch = branch_name(name, version, stage)
        return PROPOSED.format(branch=branch) if reg.store.ref(layout.branch_ref(branch)) else ""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, version: str) -> None:
        self.render(req, resp, name, version)

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str, version: str) -> None:
        form = self.form(req)
        reg = self.registry
        ref = reg.version_ref(name, check_version(version))
        here = url("models", name, "versions", ref.version)
        extra = ""
        n = ref.version
        try:
            action = form.get("action", "")
            with self.writing(req):
                if action == "promote":
                    target = declared_stage(reg, form.get("stage", ""))
                    if target.is_none:
                        question = f"Take version {n} of {name} out of {mv_stage(reg, name, n)}?"
                        button = f"Yes, demote version {n}"
                    else:
                        question = f"Move version {n} of {name} to {target.shown}?"
                        if form.get("archive_existing") == "1":
                            question += f" The version {target.shown} holds now goes to Archived."
                        button = f"Yes, move version {n} to {target.shown}"
                    if not self.confirm(req, resp, here, question, form, button):
                        return
                    reg.promote(name, n, target, archive_existing=form.get("archive_existing") == "1")
                    done = "demoted" if target.is_none else "promoted"
                elif action == "propose":
                    proposal = reg.propose(name, n, declared_stage(reg, form.get("stage", "")).name)
                    done, extra = "proposed", "?" + urlencode({"stage": proposal.stage})
                elif action == "propose_push":
                    made = reg.propose(name, n, declared_stage(reg, form.get("stage", "")).name)
                    remote = reg.push_proposal(made)
                    reg.flush_warnings()
                    note = writes.pushed_note(
                        made.branch, remote, forge.pull_request_url(remote, made.branch, made.target)
                    )
                    self.render(req, resp, name, version, flash=note)
                    return
                elif action == "set_alias":
                    reg.set_alias(name, form.get("alias", "").strip(), n)
                    done = "alias_set"
                elif action == "delete_alias":
                    reg.delete_alias(name, form.get("alias", ""))
                    done = "alias_removed"
                elif action == "delete":
                    question = (
                        f"Delete version {n} of {name}? It stops resolving and leaves every stage; {n} is never reused."
                    )
                    if not self.confirm(req, resp, here, question, form, f"Yes, delete version {n}"):
                        return
                    reg.delete_version(name, n)
                    raise self.redirect(reg, url("models", name), "version_deleted")
                else:
                    done = _apply_metadata(reg, name, n, form)
        except GitregError as exc:
            self.render(req, resp, name, version, str(exc), errors.status_for(exc))
            return
        raise self.redirect(reg, here + extra, done)


def declared_stages(reg: Registry) -> list[str]:
    """The stages a version can be moved to from a page: MLflow's fixed ones and those
    ``registry.yaml`` declares (branch names), fixed first."""
    return sorted({*(s.lower() for s in FIXED_STAGES), *reg.config().stages}, key=lambda s: (not is_fixed_stage(s), s))


def declared_stage(reg: Registry, raw: str) -> Stage:
    """``raw`` as a declared stage or "None"; anything else (an alias, a typo) is refused."""
    target = Stage.parse(raw.strip())
    if not target.is_none and target.name not in declared_stages(reg):
        raise InvalidInputError(
            f"{raw.strip()[:60]!r} is not one of this registry's stages ({', '.join(declared_stages(reg))}); "
            "set an alias in the Aliases form instead."
        )
    return target


def mv_stage(reg: Registry, name: str, version: int) -> str:
    return reg.get_version(name, version).current_stage


class CompareResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        reg = self.registry
        chosen = sorted({check_version(v) for v in req.get_param_as_list("v") or []})
        if chosen:
            if len(chosen) < 2:
                raise InvalidInputError("Check at least two versions to compare.")
            if len(chosen) > 20:
                raise InvalidInputError("Compare at most 20 versions at a time.")
            record, held = reg.record(name), reg.stages_of(name)
            shown = [reg.model_version(reg.version_ref(name, n), record, held) for n in chosen]
            body = pages.compare_many_page(name, shown)
            self.send(resp, f"{name}: {len(shown)} versions", body, req=req)
            return
        numbers = reg.version_numbers(name)
        if len(numbers) < 2 and not (req.get_param("a") and req.get_param("b")):
            raise NotFoundError(f"Model {name!r} has fewer than two versions; there is nothing to compare.")
        a = reg.version_ref(name, check_version(req.get_param("a") or numbers[-2]))
        b = reg.version_ref(name, check_version(req.get_param("b") or numbers[-1]))
        record = reg.record(name)
        held = reg.stages_of(name)
        body = pages.compare_page(
            diff_versions(reg, a, b),
            reg.model_version(a, record, held),
            reg.model_version(b, record, held),
            numbers,
            only_changes=req.get_param_as_bool("changes") or False,
        )
        self.send(resp, f"{name}: v{a.version} vs v{b.version}", body, req=req)


class ArtifactResource(_Base):
    """One artifact of a version, read from the verified materialised copy
    (:func:`gitreg.materialize.materialized` checks every sha256 first):
    text shown on a page, anything else (or ``?download=1``) downloaded."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, version: str, path: str) -> None:
        from gitreg import materialize, uri

        reg = self.registry
        ref = reg.version_ref(name, check_version(version))
        artifact = next((a for a in ref.manifest.artifacts if a.path == path), None)
        if artifact is None:  # only paths the manifest lists are ever opened
            raise NotFoundError(f"Version {ref.version} of {name!r} has no artifact {path[:200]!r}.")
        root = materialize.materialized(uri.parse(f"models:/{name}/{ref.version}"), reg)
        data = (root / artifact.path).read_bytes()
        text = pages.artifact_text(data)
        if text is None or req.get_param_as_bool("download"):
            resp.content_type = falcon.MEDIA_TEXT if text is not None else "application/octet-stream"
            filename = artifact.path.rsplit("/", 1)[-1]
            resp.downloadable_as = filename
            resp.data = data
            return
        body = pages.artifact_page(name, ref.version, artifact, text)
        self.send(resp, f"{name} v{ref.version}: {artifact.path}", body, req=req)


class RunsResource(_Base):
    def render(self, req: falcon.Request, resp: falcon.Response, error: str = "", status: int = 200) -> None:
        body = pages.runs_page(runs.list_runs(), self.registry.model_names(), self.forms(req))
        self.send(resp, "Logged models", body, active="runs", req=req, error=error, status=status)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.render(req, resp)

    def on_post_register(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = self.form(req)
        try:
            with self.writing(req):
                mv = saving.register(
                    f"runs:/{form.get('run_id', '')}/{form.get('path', '')}",
                    form.get("name", "").strip(),
                    registry=self.registry,
                    quiet=True,
                )
        except GitregError as exc:
            self.render(req, resp, str(exc), errors.status_for(exc))
            return
        raise self.redirect(self.registry, url("models", mv.name, "versions", mv.version), "registered")


class ProposalsResource(_Base):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        from gitreg.proposals import open_proposals
        from gitreg.ui.pages.proposals import proposals_page

        self.send(resp, "Proposals", proposals_page(open_proposals(self.registry)), active="proposals", req=req)


def create_app(settings: Settings, guard: CsrfGuard | None = None) -> falcon.App:
    """The WSGI app. ``guard`` holds the CSRF secret: pass one made before
    forking so every worker accepts the tokens the others issued. Requests
    naming a host outside ``settings.allowed_hosts`` (and the loopback names)
    get a 421 page, writes from another origin a 403 page, before the CSRF
    check. Raises InvalidInputError for an allowed host that is not a host name."""
    guard = guard or CsrfGuard()
    settings = replace(settings, registry=location.source(settings.registry))
    middleware: list[HostGuard | _Security] = [
        HostGuard(HostPolicy.of(settings.allowed_hosts)),  # first: nothing else runs for a refused request
        _Security(guard, settings.allow_writes),
    ]
    app = falcon.App(middleware=middleware)
    app.resp_options.secure_cookies_by_default = False
    app.req_options.strip_url_path_trailing_slash = True
    app.add_route("/", ModelsResource(settings, guard))
    app.add_route("/models/{name}", ModelResource(settings, guard))
    app.add_route("/models/{name}/versions/{version}", VersionResource(settings, guard))
    app.add_route("/models/{name}/compare", CompareResource(settings, guard))
    app.add_route("/models/{name}/versions/{version}/artifacts/{path:path}", ArtifactResource(settings, guard))
    runs_resource = RunsResource(settings, guard)
    app.add_route("/runs", runs_resource)
    app.add_route("/runs/register", runs_resource, suffix="register")
    app.add_route("/proposals", ProposalsResource(settings, guard))
    app.add_static_route("/static", str(STATIC_DIR))
    errors.install(app)
    return app
