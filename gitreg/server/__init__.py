"""The scoring server: a Falcon WSGI app over gitreg.pyfunc.

``create_app`` is imported lazily so that ``import gitreg.server.payload``
(used by ``gitreg predict``) does not import falcon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitreg.server.app import ScoringApp, create_app

__all__ = ["ScoringApp", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from gitreg.server import app

        return getattr(app, name)
    raise AttributeError(f"module 'gitreg.server' has no attribute {name!r}")
