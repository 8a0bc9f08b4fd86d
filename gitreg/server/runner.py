"""Running the scoring app under gunicorn, the production WSGI server of ``gitreg serve``.

The address is bound first (:mod:`gitreg.server.listener`), so a taken port
is refused at once; then the app is built (the model resolved, verified and
loaded) in the master before any worker is forked, so workers share the
loaded model's memory copy-on-write and each answers as soon as it is forked.

Each worker is gunicorn's gevent worker with nothing monkey-patched: one
OS thread answers requests, taking keep-alive connections in turn. A
prediction holds the GIL, so threads in one process only take turns at it
and lose time handing it over, and gunicorn's threaded worker spends more
per request on its thread pool and wake-up pipe than the seed model spends
scoring. On the seed model, single rows (``benchmarks/serve.py``, medians):
1,560 requests/s at 1 connection and 1,690 at 16 with one thread (1,180 at
16 with four), 2,350 and 2,440 with this worker. ``--workers`` is what adds
scoring capacity (4,260 at 16 connections with two workers on two cores).
The standard library stays unpatched, so the model, the ``--follow``
thread and git's subprocesses run exactly as elsewhere; a model that
blocks on I/O blocks its worker, as a prediction on the CPU does.

Shutdown is graceful on SIGTERM *and* SIGINT (gunicorn's own SIGINT is a
quick exit): the master stops accepting, workers finish the requests in
flight (within ``graceful_timeout``) and the master exits 0.
"""

from __future__ import annotations

import gc
import signal
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gitreg.extras import require

with require("serve"):
    import gevent
    from gevent import socket as gevent_socket
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.ggevent import GeventWorker

from gitreg.errors import InvalidInputError
from gitreg.server.access_log import AccessLogger
from gitreg.server.listener import bind

__all__ = ["ServerOptions", "WSGIApp", "run"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 5001
    workers: int = 1
    timeout: int = 60
    graceful_timeout: int = 30
    keepalive: int = 5
    access_log: bool = True


class ScoringWorker(GeventWorker):
    """gunicorn's gevent worker: unpatched, fair between connections, graceful on SIGINT too."""

    def patch(self) -> None:
        # Only the listening sockets become gevent's, which is all the
        # worker's accept and keep-alive loop needs (gunicorn also patches
        # the whole standard library here).
        listeners = self.sockets  # type: ignore[has-type]  # gunicorn's, untyped
        self.sockets = [gevent_socket.socket(s.FAMILY, socket.SOCK_STREAM, fileno=s.sock.detach()) for s in listeners]

    def init_signals(self) -> None:
        super().init_signals()
        signal.signal(signal.SIGINT, self.handle_exit)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> bool:
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            # A client that sends its next request at once would otherwise keep
            # the worker: its socket is always readable, so no switch happens.
            gevent.sleep(0)


class _GracefulArbiter(Arbiter):
    """gunicorn's master, with SIGINT (Ctrl-C) a graceful stop like SIGTERM."""

    def handle_int(self) -> None:
        raise StopIteration


class _Server(BaseApplication):
    def __init__(self, app: WSGIApp, options: ServerOptions, on_ready: Callable[[], None], listener_fd: int) -> None:
        self.app = app
        self.options = options
        self.on_ready = on_ready
        self.listener_fd = listener_fd
        super().__init__()

    def load_config(self) -> None:
        o = self.options
        start_following = getattr(self.app, "start_following", None) or (lambda: None)
        settings: dict[str, Any] = {
            "bind": [f"fd://{self.listener_fd}"],  # bound already: gunicorn listens on it (and owns it)
            "workers": o.workers,
            "worker_class": ScoringWorker,
            "timeout": o.timeout,
            "graceful_timeout": o.graceful_timeout,
            "keepalive": o.keepalive,
            "preload_app": True,
            "accesslog": "-" if o.access_log else None,
            "logger_class": AccessLogger,
            "errorlog": "-",
            "proc_name": "gitreg-serve",
            "when_ready": lambda arbiter: self.on_ready(),
            "post_worker_init": lambda worker: start_following(),
        }
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 24: no shared socket in $HOME
            settings["control_socket_disable"] = True
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self.app

    def run(self) -> None:
        try:
            _GracefulArbiter(self).run()
        except RuntimeError as exc:  # gunicorn's way of saying it could not start (e.g. the port is taken)
            raise InvalidInputError(f"Cannot start the server: {exc}") from None


def run(
    app: WSGIApp, options: ServerOptions, on_ready: Callable[[], None], listener: socket.socket | None = None
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT; ``on_ready`` runs once the socket listens.

    ``listener``: the socket :func:`gitreg.server.listener.bind` bound to
    ``options.host``:``options.port`` (bound here when None). An app with a
    ``start_following()`` method (a :class:`~gitreg.server.app.ScoringApp`)
    has it called in every worker.
    """
    if listener is None:
        listener = bind(options.host, options.port)
    # Everything loaded so far (libraries, the model) lives as long as the
    # process: keep the collector from walking it in every worker, which
    # costs time and un-shares the copy-on-write pages the workers inherit.
    gc.collect()
    gc.freeze()
    _Server(app, options, on_ready, listener.detach()).run()
