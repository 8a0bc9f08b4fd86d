"""The UI over plain HTTP (no browser): status codes, headers and cookies
that a browser test would not show directly."""

from __future__ import annotations

import urllib.error
import urllib.request
from email.message import Message

from ui_support import MODEL, UiServer


def fetch(url: str) -> tuple[int, Message, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, resp.headers, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


def test_pages_forbid_foreign_scripts_and_framing(ui_server: UiServer) -> None:
    status, headers, body = fetch(ui_server.url + "/")
    assert status == 200
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in headers  # read-only: no CSRF cookie, no forms
    assert '<form method="post"' not in body


def test_writable_server_sets_a_strict_same_site_cookie(ui_writer: UiServer) -> None:
    _, headers, body = fetch(f"{ui_writer.url}/models/{MODEL}")
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("gitreg_csrf=") and "SameSite=Strict" in cookie and "HttpOnly" in cookie
    assert 'name="csrf_token"' in body


def test_unknown_pages_and_bad_names_are_404_html_pages(ui_server: UiServer) -> None:
    for path in (
        "/models/Bad%20Name",
        f"/models/{MODEL}/versions/0",
        f"/models/{MODEL}/versions/-1",
        "/static/nope.css",
    ):
        status, headers, body = fetch(ui_server.url + path)
        assert status == 404, path
        assert headers["Content-Type"].startswith("text/html") and "Traceback" not in body, path


def test_stylesheet_and_script_ship_in_the_package(ui_server: UiServer) -> None:
    for path, kind in (("/static/style.css", "text/css"), ("/static/copy.js", "javascript")):
        status, headers, _ = fetch(ui_server.url + path)
        assert status == 200 and kind in headers["Content-Type"], path
