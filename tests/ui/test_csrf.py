"""CSRF tokens are bound to the browser's nonce and to the server's secret."""

from __future__ import annotations

from gitreg.ui.csrf import CsrfGuard


def test_token_is_valid_only_for_its_nonce_and_secret() -> None:
    guard = CsrfGuard()
    nonce = guard.new_nonce()
    token = guard.token(nonce)
    assert guard.valid(nonce, token)
    assert not guard.valid(guard.new_nonce(), token)
    assert not CsrfGuard().valid(nonce, token)  # a token from another server process
    assert not guard.valid(nonce, None) and not guard.valid(None, token) and not guard.valid(nonce, "")
