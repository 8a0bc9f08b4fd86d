"""The Falcon resources of the scoring server.

The request path is kept lean on purpose: no imports, no YAML, no git; one
read of the current model reference, the payload parser, ``predict`` and the
JSON encoder.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import falcon

from gitreg.errors import GitregError, InvalidInputError, NotFoundError
from gitreg.pyfunc import PyFuncModel
from gitreg.server.errors import ModelUnavailable, PayloadTooLarge
from gitreg.server.follow import ModelSet
from gitreg.server.payload import excerpt, parse_request
from gitreg.server.scoring import score

__all__ = ["Health", "Invocations", "Metadata", "StageMetadata", "Version", "metadata_of", "missing_model", "read_body"]

_CHUNK = 1 << 20


def read_body(req: falcon.Request, limit: int) -> bytes:
    """The request body, refusing more than ``limit`` bytes with :class:`PayloadTooLarge`.

    A declared Content-Length over the limit is refused before anything is
    read; a chunked body (no Content-Length) is counted as it arrives, so a
    client cannot get past the limit by not declaring or misdeclaring a size.
    """
    length = req.content_length  # falcon answers 400 itself for a malformed value
    if length is not None:
        if length > limit:
            raise PayloadTooLarge(_too_large(limit, f"declares {length} bytes"))
        stream: Any = req.bounded_stream
    elif req.env.get("wsgi.input_terminated") or "chunked" in req.env.get("HTTP_TRANSFER_ENCODING", "").lower():
        stream = req.stream  # the server delimits the body: reading to EOF is safe
    else:
        return b""
    parts = []
    total = 0
    try:
        while chunk := stream.read(min(_CHUNK, limit + 1 - total)):
            parts.append(chunk)
            total += len(chunk)
            if total > limit:
                raise PayloadTooLarge(_too_large(limit, "is larger"))
    except OSError as exc:  # the WSGI server's reader: bad chunk framing, a body cut short
        raise InvalidInputError(
            f"The request body could not be read ({type(exc).__name__}): check its Transfer-Encoding framing "
            "or Content-Length."
        ) from None
    return b"".join(parts)


def _too_large(limit: int, what: str) -> str:
    return f"the request body {what} than the limit of {limit} bytes; send fewer rows per request or raise --max-body"


def metadata_of(model: PyFuncModel) -> dict[str, Any]:
    """What ``/metadata`` says about the model that answers."""
    out = model.metadata.to_dict()
    out["loaded_at"] = datetime.datetime.fromtimestamp(model.metadata.loaded_at, datetime.UTC).isoformat()
    return out


def _json(resp: falcon.Response, doc: Any) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.data = json.dumps(doc).encode()


class Invocations:
    """``POST /invocations``: score a body with the model currently served under ``name``."""

    def __init__(self, models: ModelSet, max_body: int, on_request: Callable[[], None]) -> None:
        self.models = models
        self.max_body = max_body
        self.on_request = on_request

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str | None = None) -> None:
        self.on_request()
        model = self.models.get(name or self.models.default_name)
        if model is None:
            raise missing_model(self.models, name)
        body = score(model, parse_request(read_body(req, self.max_body), req.content_type))
        resp.content_type = falcon.MEDIA_JSON
        resp.data = body


def missing_model(models: ModelSet, name: str | None) -> GitregError:
    """Why no model answers to ``name``: still loading or none served (503), not served here (404)."""
    if not models.loaded:
        return ModelUnavailable("the model is still loading; retry shortly (GET /ping answers 200 when ready)")
    if name is None:
        return ModelUnavailable("no model is being served")
    served = ", ".join(sorted(models.models)) or "none"
    return NotFoundError(f"model '{excerpt(name, 60)}' is not served here; served: {excerpt(served, 300)}")


class Health:
    """``GET /ping`` and ``GET /health``: 200 once the models are loaded, 503 before."""

    def __init__(self, models: ModelSet, on_request: Callable[[], None]) -> None:
        self.models = models
        self.on_request = on_request

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.on_request()
        if not self.models.loaded:
            raise ModelUnavailable("the model is still loading")
        resp.content_type = falcon.MEDIA_TEXT
        resp.data = b"\n"


class Version:
    """``GET /version``: gitreg's version, as plain text like MLflow's."""

    def __init__(self, version: str) -> None:
        self.body = version.encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.data = self.body


class Metadata:
    """``GET /metadata`` (or ``/models/<name>/metadata``): the version that answers now."""

    def __init__(self, models: ModelSet) -> None:
        self.models = models

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str | None = None) -> None:
        model = self.models.get(name or self.models.default_name)
        if model is None:
            raise missing_model(self.models, name)
        _json(resp, metadata_of(model))


class StageMetadata:
    """``GET /metadata`` when serving a stage: every model served, by name."""

    def __init__(self, models: ModelSet, stage: str) -> None:
        self.models = models
        self.stage = stage

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self.models.loaded:
            raise missing_model(self.models, None)
        models = self.models.models
        _json(resp, {"stage": self.stage, "models": {n: metadata_of(m) for n, m in sorted(models.items())}})
