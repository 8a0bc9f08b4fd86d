"""The one place errors become HTTP statuses and MLflow-shaped JSON bodies.

Every response the scoring server sends for a failure is
``{"error_code": "...", "message": "..."}`` with the status of the table
below, whatever raised: a gitreg error, an exception from the model's own
``predict``, falcon itself (unknown route, wrong method) or a bug. Nothing is
ever answered with an HTML page or a traceback; tracebacks go to the server's
log and, only under ``--debug``, into a ``stack_trace`` field as MLflow does.
"""

from __future__ import annotations

import json
import logging
import traceback
from dataclasses import dataclass

import falcon

from gitreg.errors import (
    GitregError,
    InvalidInputError,
)
from gitreg.server.hosts import ForeignOrigin, MisdirectedRequest
from gitreg.server.payload import excerpt
from gitreg.server.scoring import ModelPredictError

__all__ = [
    "ForeignOrigin",
    "MisdirectedRequest",
    "ModelPredictError",
    "ModelUnavailable",
    "PayloadTooLarge",
    "ServerErrors",
    "status_of",
]

log = logging.getLogger("gitreg.server")


class PayloadTooLarge(InvalidInputError):
    """The request body is larger than ``--max-body``."""

    error_code = "REQUEST_LIMIT_EXCEEDED"
    http_status = 413


class ModelUnavailable(GitregError):
    """No model is loaded yet, or the one asked for failed to load."""

    error_code = "TEMPORARILY_UNAVAILABLE"
    http_status = 503


_GENERIC = "The server failed to handle this request; the details are in its log."


def status_of(exc: Exception) -> str:
    """The HTTP status line for a gitreg error (its ``http_status``; 500 for anything else)."""
    return falcon.code_to_http_status(exc.http_status if isinstance(exc, GitregError) else 500)


def _falcon_code(status: int) -> str:
    return {
        400: "BAD_REQUEST",
        404: "ENDPOINT_NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        411: "BAD_REQUEST",
        413: "REQUEST_LIMIT_EXCEEDED",
        415: "BAD_REQUEST",
    }.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")


@dataclass(frozen=True)
class ServerErrors:
    """Error handlers for one app; ``debug`` adds tracebacks to 500 responses."""

    debug: bool = False

    def install(self, app: falcon.App) -> None:
        """Register the handlers so that no exception escapes as falcon's default page."""
        app.add_error_handler(Exception, self.handle_unexpected)
        app.add_error_handler(falcon.HTTPError, self.handle_http)
        app.add_error_handler(GitregError, self.handle_gitreg)

    @staticmethod
    def _send(resp: falcon.Response, status: str | int, body: dict[str, str]) -> None:
        resp.status = status
        resp.content_type = falcon.MEDIA_JSON
        resp.data = json.dumps(body).encode()

    def handle_gitreg(self, req: falcon.Request, resp: falcon.Response, exc: GitregError, params: dict) -> None:
        status = status_of(exc)
        if status == falcon.HTTP_500:
            # A GitregError we did not expect here (a git failure, a bug): the
            # message may name server-side paths, so it stays in the log.
            self._internal(req, resp, exc)
            return
        if status.startswith("503"):
            log.error("%s %s: %s", req.method, req.path, exc)
        body = {"error_code": exc.error_code, "message": excerpt(str(exc), 1000)}
        if self.debug and isinstance(exc, ModelPredictError) and exc.__cause__ is not None:
            body["stack_trace"] = "".join(traceback.format_exception(exc.__cause__))
        self._send(resp, status, body)

    def handle_http(self, req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError, params: dict) -> None:
        message = exc.title if not exc.description else f"{exc.title}: {exc.description}"
        self._send(resp, exc.status, {"error_code": _falcon_code(exc.status_code), "message": message})
        if exc.headers:
            resp.set_headers(exc.headers)

    def handle_unexpected(self, req: falcon.Request, resp: falcon.Response, exc: Exception, params: dict) -> None:
        self._internal(req, resp, exc)

    def _internal(self, req: falcon.Request, resp: falcon.Response, exc: BaseException) -> None:
        log.error("%s %s failed", req.method, req.path, exc_info=exc)
        body = {"error_code": "INTERNAL_ERROR", "message": _GENERIC}
        if self.debug:
            body["message"] = f"{type(exc).__name__}: {excerpt(str(exc), 1000)}"
            body["stack_trace"] = "".join(traceback.format_exception(exc))
        self._send(resp, falcon.HTTP_500, body)
