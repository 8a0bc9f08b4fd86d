"""Running the scoring app under gunicorn, the production WSGI server of ``gitreg serve``.

The app is built (the model resolved, verified and loaded) in the master
before any worker is forked, so a bad URI fails before a port is opened,
workers share the loaded model's memory copy-on-write and each answers as
soon as it is forked. Workers are gunicorn's threaded workers, which keep
connections alive (the synchronous worker closes each connection after one
request, which costs more than scoring a row). One thread per worker by
default: a prediction holds the GIL, so several threads in one process
take turns at it and lose time handing it over (measured on the seed model,
16 connections: 1,660 requests/s with one thread, 1,180 with four);
``--workers`` is what adds scoring capacity.

Shutdown is graceful on SIGTERM *and* SIGINT (gunicorn's own SIGINT is a
quick exit): the master stops accepting, workers finish the requests in
flight (within ``graceful_timeout``) and the master exits 0.
"""

from __future__ import annotations

import gc
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.gthread import ThreadWorker

from gitreg.errors import InvalidInputError
from gitreg.server.access_log import AccessLogger
from gitreg.server.app import ScoringApp

__all__ = ["ServerOptions", "run"]


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 5001
    workers: int = 1
    threads: int = 1  # scoring holds the GIL: threads in one process only queue for it
    timeout: int = 60
    graceful_timeout: int = 30
    keepalive: int = 5
    access_log: bool = True


class GracefulWorker(ThreadWorker):
    """gunicorn's threaded worker, finishing its requests on SIGINT as on SIGTERM."""

    def init_signals(self) -> None:
        super().init_signals()
        signal.signal(signal.SIGINT, self.handle_exit)


class _GracefulArbiter(Arbiter):
    """gunicorn's master, with SIGINT (Ctrl-C) a graceful stop like SIGTERM."""

    def handle_int(self) -> None:
        raise StopIteration


class _Server(BaseApplication):
    def __init__(self, app: ScoringApp, options: ServerOptions, on_ready: Callable[[], None]) -> None:
        self.app = app
        self.options = options
        self.on_ready = on_ready
        super().__init__()

    def load_config(self) -> None:
        o = self.options
        settings: dict[str, Any] = {
            "bind": [f"[{o.host}]:{o.port}" if ":" in o.host else f"{o.host}:{o.port}"],
            "workers": o.workers,
            "threads": o.threads,
            "worker_class": GracefulWorker,
            "timeout": o.timeout,
            "graceful_timeout": o.graceful_timeout,
            "keepalive": o.keepalive,
            "preload_app": True,
            "accesslog": "-" if o.access_log else None,
            "logger_class": AccessLogger,
            "errorlog": "-",
            "proc_name": "gitreg-serve",
            "when_ready": lambda arbiter: self.on_ready(),
            "post_worker_init": lambda worker: self.app.start_following(),
        }
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 24: no shared socket in $HOME
            settings["control_socket_disable"] = True
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> ScoringApp:
        return self.app

    def run(self) -> None:
        try:
            _GracefulArbiter(self).run()
        except RuntimeError as exc:  # gunicorn's way of saying it could not start (e.g. the port is taken)
            raise InvalidInputError(f"Cannot start the server: {exc}") from None


def run(app: ScoringApp, options: ServerOptions, on_ready: Callable[[], None]) -> None:
    """Serve ``app`` until SIGTERM or SIGINT; ``on_ready`` runs once the port is bound."""
    check_bindable(options.host, options.port)
    # Everything loaded so far (libraries, the model) lives as long as the
    # process: keep the collector from walking it in every worker, which
    # costs time and un-shares the copy-on-write pages the workers inherit.
    gc.collect()
    gc.freeze()
    _Server(app, options, on_ready).run()


def check_bindable(host: str, port: int) -> None:
    """Refuse, in one clear line, an address that is taken or unknown, before
    gunicorn retries it for seconds and exits with only its log line."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InvalidInputError(f"Cannot serve on {host}:{port}: {exc.strerror or exc}. Check --host.") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise InvalidInputError(
                f"Cannot serve on {host}:{port}: {exc.strerror or exc}. Choose another --port (or stop what uses it)."
            ) from None
