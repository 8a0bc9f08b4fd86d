"""Run the UI under gunicorn, configured in code rather than by a config file."""

from __future__ import annotations

from typing import Any

from gitreg.extras import require

with require("ui"):
    import falcon
    from gunicorn.app.base import BaseApplication

from gitreg.ui.app import Settings, create_app
from gitreg.ui.csrf import CsrfGuard


class _Server(BaseApplication):
    def __init__(self, app: falcon.App, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> falcon.App:
        return self.application


def serve(settings: Settings, host: str, port: int, *, threads: int = 4) -> None:
    """Serve until interrupted. One worker process with a few threads: the
    CSRF secret is made here, before gunicorn forks, and each request reads
    git through the worker's own ``cat-file`` process."""
    app = create_app(settings, CsrfGuard())
    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 120,
    }
    _Server(app, options).run()
