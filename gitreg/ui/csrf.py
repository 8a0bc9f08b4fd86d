"""CSRF protection for the UI's write forms (signed double-submit).

Each browser gets a random nonce in a ``SameSite=Strict`` cookie; every
form carries ``HMAC(secret, nonce)`` in a hidden field. A POST is accepted
only when the field matches the cookie's nonce under this process's secret,
so another site can neither read the token nor make the browser send the
cookie, and a token from an earlier server process is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "gitreg_csrf"
FIELD = "csrf_token"


class CsrfGuard:
    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    @staticmethod
    def new_nonce() -> str:
        return secrets.token_urlsafe(24)

    def token(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()

    def valid(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or not token:
            return False
        return hmac.compare_digest(self.token(nonce), token)
