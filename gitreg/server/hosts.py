"""Which ``Host`` a request may name and which ``Origin`` may write: the one
rule of both web apps (``gitreg serve`` and ``gitreg ui``) against DNS rebinding.

A rebinding page is served from a name its author controls (``evil.example``)
that is then pointed at 127.0.0.1: the browser thinks it is still talking to
``evil.example``, so the page becomes same-origin with our server and can
read its answers (the UI's CSRF token among them). What it cannot change is
the ``Host`` header, which names ``evil.example``. So an app answers only
requests naming

- ``localhost``, ``127.0.0.1`` or ``::1`` (written ``[::1]``), whatever the port;
- the address it is bound to, unless that is a wildcard (``0.0.0.0``, ``::``):
  a wildcard says which interfaces listen, not which names reach them, and
  guessing them (the machine's hostname, its addresses, their reverse DNS)
  would accept names nobody chose and miss the one a proxy or a DNS alias
  uses. So bound to a wildcard, every other name must be given, each with
  ``--allowed-host NAME`` (``*`` explicitly accepts any, giving the check up,
  e.g. behind a load balancer whose health checks name changing pod IPs);
- a name given with ``--allowed-host`` (``allowed_hosts`` of the app factories).

Anything else is :class:`MisdirectedRequest` (421). A request with no ``Host``
at all (HTTP/1.0) is answered: every browser sends ``Host``, so its absence
means a non-browser client (an old health checker), which rebinding cannot be.

Writes (any method but GET, HEAD, OPTIONS, TRACE) are refused with
:class:`ForeignOrigin` (403) when the browser says they come from another
origin: ``Sec-Fetch-Site`` other than ``same-origin`` or ``none``; an
``Origin`` (else the ``Referer``'s origin) that is neither the request's own
host and port nor a name given with ``--allowed-host`` (that one on any port,
for a reverse proxy that rewrites ``Host``); ``Origin: null``. A write with
none of these headers is not a browser's cross-site request (browsers send
``Origin`` on every POST) and goes on to the app's own checks: the UI's CSRF
token, or nothing for the scoring API's non-browser clients.

This module is the rule and its falcon middleware (:class:`HostGuard`, duck
typed, so it imports neither falcon nor pandas and the UI can use it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gitreg.errors import GitregError, InvalidInputError

if TYPE_CHECKING:
    import falcon

__all__ = [
    "ANY_HOST",
    "LOOPBACK_NAMES",
    "ForeignOrigin",
    "HostGuard",
    "HostPolicy",
    "MisdirectedRequest",
    "split_host",
]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_ADDRESSES = frozenset({"", "0.0.0.0", "::"})
ANY_HOST = "*"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class MisdirectedRequest(GitregError):
    """The request's ``Host`` names a host this server was not told to answer for."""

    error_code = "BAD_REQUEST"
    http_status = 421


class ForeignOrigin(GitregError):
    """A write sent by a page of another origin (``Origin``, ``Referer`` or ``Sec-Fetch-Site`` says so)."""

    error_code = "PERMISSION_DENIED"
    http_status = 403


@lru_cache(maxsize=512)
def split_host(value: str) -> tuple[str, int | None] | None:
    """``(host, port)`` of a ``Host`` header or an ``--allowed-host`` value,
    lower-cased, IPv6 without brackets, without a trailing dot; None when it
    is not a host (``a b``, ``[::1``, a port that is not a number)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        host, rest = value[1:end], value[end + 1 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:] if rest else None
    else:
        host, sep, port_text_ = value.rpartition(":")
        if not sep:
            host, port_text = value, None
        else:
            port_text = port_text_
        host = host.rstrip(".")
        if not host or any(c in host for c in " /\\@[]:?#%") or not host.isascii():
            return None
    if port_text is None:
        return host, None
    if not port_text.isdigit() or int(port_text) > 65535:
        return None
    return host, int(port_text)


def _parse_name(value: str) -> tuple[str, int | None] | None:
    """As :func:`split_host`, also taking an IPv6 address without brackets (``--host ::1``)."""
    return split_host(value) or (split_host(f"[{value.strip()}]") if ":" in value else None)


@dataclass(frozen=True)
class HostPolicy:
    """The names one app answers for: the loopback names plus ``extra``.

    ``explicit`` are the names given by the user (``--allowed-host``), which
    may also send writes from another port (a reverse proxy's origin);
    ``any_host`` when one of them was ``*``.
    """

    extra: frozenset[str] = frozenset()
    explicit: frozenset[str] = frozenset()
    any_host: bool = False

    @classmethod
    def build(cls, allowed_hosts: Iterable[str] = (), bound: str | None = None) -> HostPolicy:
        """The policy of an app bound to ``bound`` (None: not known, as under
        another WSGI server) and told to also answer ``allowed_hosts``.
        Raises InvalidInputError naming a value that is not a host name."""
        if isinstance(allowed_hosts, str):
            allowed_hosts = (allowed_hosts,)
        explicit: set[str] = set()
        any_host = False
        for value in allowed_hosts:
            if value.strip() == ANY_HOST:
                any_host = True
                continue
            parsed = _parse_name(value)
            if parsed is None:
                raise InvalidInputError(
                    f"--allowed-host {value!r} is not a host name; give a name or address as it appears in "
                    "the URL, without scheme or path (e.g. --allowed-host models.example.com)."
                )
            explicit.add(parsed[0])
        extra = set(explicit)
        if bound is not None:
            parsed = _parse_name(bound)
            if parsed is not None and parsed[0] not in WILDCARD_ADDRESSES:
                extra.add(parsed[0])
        return cls(frozenset(extra), frozenset(explicit), any_host)

    @classmethod
    def of(cls, allowed_hosts: HostPolicy | Iterable[str]) -> HostPolicy:
        """``allowed_hosts`` as a policy: a policy as it is, names as :meth:`build` takes them."""
        return allowed_hosts if isinstance(allowed_hosts, HostPolicy) else cls.build(allowed_hosts)

    def allows_host(self, host: str) -> bool:
        """Whether a request naming ``host`` (already split, port dropped) is answered."""
        return self.any_host or host in LOOPBACK_NAMES or host in self.extra

    def check_host(self, header: str | None) -> None:
        """Raise MisdirectedRequest unless the ``Host`` header (None or empty: absent) is allowed."""
        if not header:
            return
        parsed = split_host(header)
        if parsed is not None and self.allows_host(parsed[0]):
            return
        shown = parsed[0] if parsed is not None else header[:100]
        raise MisdirectedRequest(
            f"This server does not answer for host {shown!r}. If that name is meant to reach it, "
            f"start it with --allowed-host {shown if parsed is not None else 'NAME'}."
        )

    def check_write(self, host: str | None, origin: str | None, referer: str | None, fetch_site: str | None) -> None:
        """Raise ForeignOrigin when the browser's headers say a write comes
        from another origin than the request's own ``host`` header."""
        if fetch_site and fetch_site.strip().lower() not in _SAME_ORIGIN_FETCH:
            raise ForeignOrigin(
                f"Refused a write sent from another site (Sec-Fetch-Site: {fetch_site[:40]}); "
                "make changes from this server's own pages."
            )
        claimed, header = (origin, "Origin") if origin else (referer, "Referer")
        if not claimed:
            return
        if not self._same_or_trusted(claimed, host):
            shown = claimed[:100]
            raise ForeignOrigin(
                f"Refused a write from {shown} ({header}): it is not this server's origin. Make changes from "
                "this server's own pages; if that origin fronts this server (a reverse proxy), start it with "
                "--allowed-host NAME."
            )

    def _same_or_trusted(self, claimed: str, host: str | None) -> bool:
        try:
            parts = urlsplit(claimed.strip())
            scheme, name, port = parts.scheme.lower(), parts.hostname, parts.port
        except ValueError:
            return False
        if scheme not in _DEFAULT_PORTS or not name:
            return False  # "null", about:, file: and other opaque origins
        name = name.rstrip(".")
        if name in self.explicit:
            return True
        own = split_host(host) if host else None
        if own is None:
            return False
        effective = port if port is not None else _DEFAULT_PORTS[scheme]
        own_port = own[1] if own[1] is not None else _DEFAULT_PORTS[scheme]
        return name == own[0] and effective == own_port


class HostGuard:
    """Falcon middleware applying a :class:`HostPolicy` to every request:
    the ``Host`` check first, then, for writes, the origin check. Install it
    first, so nothing else runs for a refused request; the app's error
    handlers turn its errors into the app's own error responses."""

    def __init__(self, policy: HostPolicy) -> None:
        self.policy = policy

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        host = req.get_header("Host")
        self.policy.check_host(host)
        if req.method not in SAFE_METHODS:
            self.policy.check_write(
                host, req.get_header("Origin"), req.get_header("Referer"), req.get_header("Sec-Fetch-Site")
            )
