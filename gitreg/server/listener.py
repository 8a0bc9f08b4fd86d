"""The listening address of ``gitreg serve``, taken before anything slow happens.

Binding first means a taken port or an unknown host is one line within a
moment of starting, not a failure after a long model load (or gunicorn's
five one-second retries). The socket is bound but not yet listening, so a
client connecting while the model loads is refused at once instead of
waiting in the backlog; gunicorn starts listening on it when it is ready.

Only the standard library is imported here, so the CLI can bind before it
imports falcon, pandas or the model.
"""

from __future__ import annotations

import socket

from gitreg.errors import InvalidInputError

__all__ = ["bind"]


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (port 0: any free port), not listening yet.

    Raises :class:`InvalidInputError` naming the address and the fix when the
    host does not resolve or the address is taken or not ours to bind.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InvalidInputError(f"Cannot serve on {host}:{port}: {exc.strerror or exc}. Check --host.") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise InvalidInputError(
            f"Cannot serve on {host}:{port}: {exc.strerror or exc}. Choose another --port (or stop what uses it)."
        ) from None
    return sock
