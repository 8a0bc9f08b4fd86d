"""Who a write from the browser is committed as.

By default every write is the server's: git's configured identity (what
``git var GIT_COMMITTER_IDENT`` says for the registry). Behind an
authenticating proxy (oauth2-proxy, an ingress with SSO, ...) the server can
be told to trust the header the proxy sets, ``gitreg ui --trust-user-header``
or ``GITREG_UI_TRUST_USER_HEADER`` (e.g. ``X-Forwarded-User``) and optionally
``--trust-email-header`` or ``GITREG_UI_TRUST_EMAIL_HEADER`` (e.g.
``X-Forwarded-Email``): each write is then authored by that person,
through :func:`gitreg.store.writing_as`, which is local to the thread doing
the write. A write without the header is refused rather than committed as
the server, and a value that could break a commit header (``<``, ``>``,
control characters) is refused too.

Only trust such a header when the proxy is the sole way to reach the port
(it strips the header from what clients send).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from gitreg.errors import InvalidInputError
from gitreg.store import Identity

USER_HEADER_ENV = "GITREG_UI_TRUST_USER_HEADER"
EMAIL_HEADER_ENV = "GITREG_UI_TRUST_EMAIL_HEADER"
# What ``--trust-user-header`` / ``--trust-email-header`` trust when given no name: the headers
# oauth2-proxy and most SSO ingresses set.
DEFAULT_USER_HEADER = "X-Forwarded-User"
DEFAULT_EMAIL_HEADER = "X-Forwarded-Email"
_BAD = re.compile(r"[<>\x00-\x1f\x7f]")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")


@dataclass(frozen=True)
class TrustedHeaders:
    """The request headers naming the person behind the proxy; ``user`` None: trust none."""

    user: str | None = None
    email: str | None = None

    @classmethod
    def named(cls, user: str | None, email: str | None = None) -> TrustedHeaders:
        """The headers ``gitreg ui`` was told to trust, checked: each must be an HTTP header name,
        and an email header goes with a user header (alone it would trust nothing, silently)."""
        for name in (user, email):
            if name is not None and not _HEADER_NAME.match(name):
                raise InvalidInputError(f"{name[:70]!r} is not an HTTP header name.")
        if email is not None and user is None:
            raise InvalidInputError(
                f"The email header {email} is trusted only with a user header: name it too "
                f"(--trust-user-header or {USER_HEADER_ENV})."
            )
        return cls(user, email)

    @classmethod
    def from_env(cls) -> TrustedHeaders:
        return cls.named(os.environ.get(USER_HEADER_ENV) or None, os.environ.get(EMAIL_HEADER_ENV) or None)

    def identity(self, headers: Mapping[str, str]) -> Identity | None:
        """The person the proxy names in ``headers`` (upper-case keys, as Falcon gives them),
        None when no header is trusted. InvalidInputError when it should name one and does not."""
        if self.user is None:
            return None
        name = (headers.get(self.user.upper()) or "").strip()
        email = (headers.get(self.email.upper()) or "").strip() if self.email else ""
        if not name and not email:
            raise InvalidInputError(
                f"This server records who writes from the {self.user} header, and the request has none: "
                "sign in through the proxy."
            )
        for value in (name, email):
            if _BAD.search(value) or len(value) > 200:
                raise InvalidInputError(f"The {self.user} header holds characters a commit author cannot have.")
        if not email and "@" in name:
            name, email = name.split("@", 1)[0], name
        return Identity(name or email.split("@", 1)[0], email)
