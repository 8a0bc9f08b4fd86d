"""The UI's error pages, with the status each error class carries
(:mod:`gitreg.errors`) but for one rule of its own: a bad model name or
version in a URL is "no such page" (404), whether the registry says it does
not exist or that it could not exist. Anything unexpected is a 500 page; its
traceback goes to the server log, never to the browser.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import falcon

from gitreg.errors import GitregError, InvalidInputError
from gitreg.ui import pages
from gitreg.ui.html import page

log = logging.getLogger("gitreg.ui")

_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed", 409: "Conflict"}


def status_for(exc: GitregError, *, in_url: bool = False) -> int:
    """The HTTP status of a refused request; ``in_url`` when the refused value
    came from the path (a malformed name there names no page: 404)."""
    if in_url and isinstance(exc, InvalidInputError):
        return 404
    return exc.http_status


# A sentence of the library's messages that tells a terminal user what to run
# ("List versions with 'gitreg versions NAME'."): no help on a web page, whose
# error page links to the models instead.
_CLI_ADVICE = re.compile(r"\s*[^.;]*'gitreg [^']*'[^.;]*[.;]?")


def for_web(message: str) -> str:
    """``message`` without the sentences advising a ``gitreg`` command."""
    return _CLI_ADVICE.sub("", message).strip() or message


def render_error(resp: falcon.Response, status: int, message: str) -> None:
    title = _TITLES.get(status, "Something went wrong")
    resp.status = status
    resp.content_type = falcon.MEDIA_HTML
    resp.text = page(title, pages.error_page(status, title, for_web(message)))


def _on_gitreg_error(req: falcon.Request, resp: falcon.Response, exc: GitregError, params: dict[str, Any]) -> None:
    status = status_for(exc, in_url=req.method in ("GET", "HEAD"))
    if status >= 500:
        log.error("%s %s failed: %s", req.method, req.path, exc)
    render_error(resp, status, str(exc))


def _on_http_error(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError, params: dict[str, Any]) -> None:
    message = exc.description or {
        404: f"There is no page at {req.path}.",
        405: "This page does not accept that request.",
    }.get(exc.status_code, exc.title)
    render_error(resp, exc.status_code, message)
    for name, value in dict(exc.headers or {}).items():
        resp.set_header(name, value)


def _on_unexpected(req: falcon.Request, resp: falcon.Response, exc: Exception, params: dict[str, Any]) -> None:
    log.exception("%s %s failed", req.method, req.path)
    render_error(resp, 500, "The server hit an unexpected error; the details are in its log.")


def install(app: falcon.App) -> None:
    """Register the handlers (falcon picks the most specific class first)."""
    app.add_error_handler(Exception, _on_unexpected)
    app.add_error_handler(falcon.HTTPError, _on_http_error)
    app.add_error_handler(GitregError, _on_gitreg_error)
