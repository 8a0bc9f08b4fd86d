"""The Open Inference Protocol (KServe V2) beside ``/invocations``: routes and tensor mapping."""

from __future__ import annotations

from gitreg.server.v2.routes import PREFIX, ProtocolErrors, ServedModels, add_routes

__all__ = ["PREFIX", "ProtocolErrors", "ServedModels", "add_routes"]
