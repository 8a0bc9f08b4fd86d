"""The Open Inference Protocol (KServe/Triton/MLServer "V2") REST endpoints.

Beside ``/invocations``, over the same :class:`~gitreg.server.follow.ModelSet`:
readiness is the same check as ``/ping``, a prediction runs the same
signature enforcement and model call, so both protocols answer the same
input with the same predictions and the same refusals. Only the wire format
differs (:mod:`gitreg.server.v2.tensors`), errors included: under ``/v2``
every error body is the protocol's ``{"error": "..."}``
(:class:`ProtocolErrors`), with the status gitreg's error classes carry.

A served model is known by its registered name and version (``--stage``:
every model of the stage). A model directory (``gitreg serve -m DIR``) is
known by the name and version its ``gitreg.yaml`` manifest records, as
``gitreg export`` writes it, else by the directory's name, without a version.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import falcon

from gitreg.errors import GitregError, NotFoundError
from gitreg.manifest import MANIFEST_FILE, Manifest
from gitreg.pyfunc import PyFuncModel
from gitreg.server.follow import ModelSet
from gitreg.server.payload import UnsupportedMediaType, dumps_json, excerpt, read_json
from gitreg.server.resources import missing_model, read_body
from gitreg.server.scoring import predict
from gitreg.server.v2.tensors import infer_response, input_tensors, output_tensors, parse_infer_request

__all__ = ["PREFIX", "ProtocolErrors", "ServedModels", "add_routes"]

PREFIX = "/v2"
log = logging.getLogger("gitreg.server")


class ServedModels:
    """The models being served, by the name and version the protocol's paths use."""

    def __init__(self, models: ModelSet) -> None:
        self.models = models
        self._identity: weakref.WeakKeyDictionary[PyFuncModel, tuple[str, str | None]] = weakref.WeakKeyDictionary()

    def identity(self, model: PyFuncModel) -> tuple[str, str | None]:
        """``(name, version)`` of a loaded model; worked out once per loaded model."""
        found = self._identity.get(model)
        if found is None:
            found = self._identity[model] = _identity_of(model)
        return found

    def by_name(self) -> dict[str, PyFuncModel]:
        if self.models.default_name:
            model = self.models.get(self.models.default_name)
            return {self.identity(model)[0]: model} if model is not None else {}
        return self.models.models

    def find(self, name: str, version: str | None) -> tuple[PyFuncModel, str | None]:
        """The model serving ``name`` (at ``version``, when given) and its version.

        Raises :class:`~gitreg.server.errors.ModelUnavailable` while loading and
        :class:`~gitreg.errors.NotFoundError` for a name or version not served here.
        """
        if not self.models.loaded:
            raise missing_model(self.models, None)
        served = self.by_name()
        model = served.get(name)
        if model is None:
            listed = ", ".join(sorted(served)) or "none"
            raise NotFoundError(f"model '{excerpt(name, 60)}' is not served here; served: {excerpt(listed, 300)}")
        served_version = self.identity(model)[1]
        if version is not None and version != served_version:
            raise NotFoundError(
                f"version '{excerpt(version, 20)}' of model '{excerpt(name, 60)}' is not served here; "
                f"this server serves {f'version {served_version}' if served_version else 'it without a version'}"
            )
        return model, served_version


def _identity_of(model: PyFuncModel) -> tuple[str, str | None]:
    m = model.metadata
    if m.name:
        return m.name, str(m.version) if m.version is not None else None
    path = Path(m.path)
    try:
        manifest = Manifest.from_yaml((path / MANIFEST_FILE).read_bytes(), str(path / MANIFEST_FILE))
    except (OSError, GitregError):
        return path.name, None
    return manifest.name, str(manifest.version)


def _send(resp: falcon.Response, doc: Any, status: str = falcon.HTTP_200) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = dumps_json(doc)


class ServerLive:
    """``GET /v2/health/live``: the process answers (while loading, too)."""

    def __init__(self, on_request: Callable[[], None]) -> None:
        self.on_request = on_request

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.on_request()
        _send(resp, {"live": True})


class ServerReady:
    """``GET /v2/health/ready``: 200 once the models are loaded, 503 before, as ``/ping``."""

    def __init__(self, served: ServedModels, on_request: Callable[[], None]) -> None:
        self.served = served
        self.on_request = on_request

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.on_request()
        if self.served.models.loaded:
            _send(resp, {"ready": True})
        else:
            _send(resp, {"ready": False, "error": "the model is still loading"}, falcon.HTTP_503)


class ServerMetadata:
    """``GET /v2``: the server's name, version and protocol extensions (none)."""

    def __init__(self, version: str) -> None:
        self.doc = {"name": "gitreg", "version": version, "extensions": []}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _send(resp, self.doc)


class ModelMetadata:
    """``GET /v2/models/{name}[/versions/{version}]``: inputs and outputs from the signature."""

    def __init__(self, served: ServedModels) -> None:
        self.served = served

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, version: str | None = None) -> None:
        model, served_version = self.served.find(name, version)
        signature = model.metadata.signature
        doc: dict[str, Any] = {"name": name}
        if served_version is not None:
            doc["versions"] = [served_version]
        doc["platform"] = model.metadata.flavor
        doc["inputs"] = [t.to_dict() for t in input_tensors(signature)]
        doc["outputs"] = [t.to_dict() for t in output_tensors(signature)]
        _send(resp, doc)


class ModelReady:
    """``GET /v2/models/{name}[/versions/{version}]/ready``: 200 when it answers, 503 while loading."""

    def __init__(self, served: ServedModels, on_request: Callable[[], None]) -> None:
        self.served = served
        self.on_request = on_request

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str, version: str | None = None) -> None:
        self.on_request()
        if not self.served.models.loaded:
            _send(resp, {"name": name, "ready": False, "error": "the model is still loading"}, falcon.HTTP_503)
            return
        self.served.find(name, version)
        _send(resp, {"name": name, "ready": True})


class Infer:
    """``POST /v2/models/{name}[/versions/{version}]/infer``: named tensors in, output tensors out."""

    def __init__(self, served: ServedModels, max_body: int, on_request: Callable[[], None]) -> None:
        self.served = served
        self.max_body = max_body
        self.on_request = on_request

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str, version: str | None = None) -> None:
        self.on_request()
        model, served_version = self.served.find(name, version)
        _check_media(req)
        signature = model.metadata.signature
        request = parse_infer_request(read_json(read_body(req, self.max_body)), signature)
        predictions = predict(model, request.data, request.params)
        _send(
            resp,
            infer_response(predictions, signature, model_name=name, model_version=served_version, request=request),
        )


def _check_media(req: falcon.Request) -> None:
    if req.get_header("Inference-Header-Content-Length") is not None:
        raise UnsupportedMediaType("the binary tensor data extension is not supported; send the request as JSON")
    media = (req.content_type or "").split(";")[0].strip().lower()
    if media not in ("", falcon.MEDIA_JSON):
        raise UnsupportedMediaType(f"unsupported Content-Type '{excerpt(media, 60)}'; send {falcon.MEDIA_JSON}")


class ProtocolErrors:
    """Falcon middleware: every error answered under ``/v2`` in the protocol's shape.

    gitreg's one error table (:mod:`gitreg.server.errors`) decides the status
    and message for every route; here ``{"error_code", "message"}`` becomes
    ``{"error": message}`` (a ``stack_trace`` under ``--debug`` is kept), so
    unknown routes, wrong methods, 413s and 421s under ``/v2`` follow the
    protocol too.
    """

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        if resp.status_code < 400 or not (req.path == PREFIX or req.path.startswith(PREFIX + "/")):
            return
        data = resp.data
        if not data:
            return
        try:
            body = json.loads(data)
        except ValueError:
            return
        if isinstance(body, dict) and "message" in body and "error" not in body:
            shaped = {"error": body["message"]}
            if "stack_trace" in body:
                shaped["stack_trace"] = body["stack_trace"]
            resp.data = json.dumps(shaped).encode()


def add_routes(
    app: falcon.App, models: ModelSet, *, version: str, max_body: int, on_request: Callable[[], None]
) -> None:
    """Add the protocol's endpoints for ``models`` to ``app`` (which must also use :class:`ProtocolErrors`)."""
    served = ServedModels(models)
    app.add_route(f"{PREFIX}", ServerMetadata(version))
    app.add_route(f"{PREFIX}/health/live", ServerLive(on_request))
    app.add_route(f"{PREFIX}/health/ready", ServerReady(served, on_request))
    metadata = ModelMetadata(served)
    ready = ModelReady(served, on_request)
    infer = Infer(served, max_body, on_request)
    for base in (f"{PREFIX}/models/{{name}}", f"{PREFIX}/models/{{name}}/versions/{{version}}"):
        app.add_route(base, metadata)
        app.add_route(f"{base}/ready", ready)
        app.add_route(f"{base}/infer", infer)
