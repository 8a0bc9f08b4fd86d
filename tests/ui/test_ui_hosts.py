"""The registry browser against DNS rebinding and cross-site writes: it answers
only allowed hosts, refuses writes from other origins before the CSRF check,
and shows only messages of its own after a redirect. In-process for the
headers, then a real ``gitreg ui`` process driven over HTTP and by Chromium
with a host resolver that plays the rebinding attacker's DNS."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import falcon.testing
import pytest
from ui_support import MODEL, UiServer, stop

from gitreg import testing
from gitreg.registry import Registry
from gitreg.ui.app import Settings, create_app
from gitreg.ui.csrf import COOKIE, CsrfGuard

VERSION_PAGE = f"/models/{MODEL}/versions/2"
HOST = "localhost:5000"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(ui_registry: Registry) -> falcon.testing.TestClient:
    app = create_app(Settings(str(ui_registry.path), allow_writes=True, allowed_hosts=("registry.lan",)), CsrfGuard())
    return falcon.testing.TestClient(app)


def session(client: falcon.testing.TestClient) -> tuple[str, str]:
    """(nonce cookie, form token) of a browser that opened the version page."""
    resp = client.simulate_get(VERSION_PAGE, host=HOST)
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', resp.text)
    assert token is not None
    return resp.cookies[COOKIE].value, token.group(1)


def description_post(
    client: falcon.testing.TestClient, headers: dict[str, str], text: str = "changed"
) -> falcon.testing.Result:
    nonce, token = session(client)
    return client.simulate_post(
        VERSION_PAGE,
        host=HOST,
        cookies={COOKIE: nonce},
        headers={**FORM, **headers},
        body=urlencode({"csrf_token": token, "action": "description", "description": text}),
    )


def flash(client: falcon.testing.TestClient, query: str) -> str:
    """The message the version page shows for ``query``."""
    page = client.simulate_get(VERSION_PAGE, query_string=query, host=HOST).text
    found = re.search(r'<div class="flash" role="status">(.*?)</div>', page)
    return found.group(1) if found else ""


def test_a_rebound_host_gets_a_421_page_without_a_token(client: falcon.testing.TestClient) -> None:
    resp = client.simulate_get(VERSION_PAGE, host="evil.example")
    assert resp.status_code == 421
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "start it with --allowed-host evil.example" in resp.text
    assert "csrf_token" not in resp.text and COOKIE not in resp.headers.get("Set-Cookie", "")


def test_loopback_and_allowed_hosts_and_requests_without_host_are_answered(client: falcon.testing.TestClient) -> None:
    for host in ("localhost", "127.0.0.1:5000", "[::1]:5000", "registry.lan:8080"):
        assert client.simulate_get("/", host=host).status_code == 200, host
    assert client.simulate_get("/", headers={"Host": ""}).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://localhost:3000"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/attack.html"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": f"http://{HOST}", "Sec-Fetch-Site": "same-site"},
    ],
    ids=["foreign-origin", "other-port", "null-origin", "foreign-referer", "cross-site", "same-site"],
)
def test_a_write_from_another_origin_is_forbidden_before_the_csrf_check(
    client: falcon.testing.TestClient, ui_registry: Registry, headers: dict[str, str]
) -> None:
    resp = description_post(client, headers)  # with a valid token: only the origin is wrong
    assert resp.status_code == 403
    assert "Refused a write" in resp.text and "security token" not in resp.text
    assert ui_registry.get_version(MODEL, 2).description != "changed"


def test_a_write_from_this_origin_with_a_good_token_is_done(
    client: falcon.testing.TestClient, ui_registry: Registry
) -> None:
    resp = description_post(client, {"Origin": f"http://{HOST}", "Sec-Fetch-Site": "same-origin"})
    assert resp.status_code == 303
    assert ui_registry.get_version(MODEL, 2).description == "changed"
    referred = description_post(client, {"Referer": f"http://{HOST}{VERSION_PAGE}"}, "again")
    assert referred.status_code == 303 and ui_registry.get_version(MODEL, 2).description == "again"


def test_a_write_without_browser_headers_still_needs_the_token(client: falcon.testing.TestClient) -> None:
    body = urlencode({"csrf_token": "0" * 64, "action": "description", "description": "x"})
    resp = client.simulate_post(VERSION_PAGE, host=HOST, headers=FORM, body=body)
    assert resp.status_code == 403 and "security token" in resp.text


def test_flash_text_comes_from_the_server_not_the_query(client: falcon.testing.TestClient) -> None:
    assert flash(client, "done=promoted&branch=Click+evil.example") == "Promoted."
    assert flash(client, "done=Your+account+is+locked") == ""
    assert flash(client, "done=proposed&branch=Visit+evil.example+now") == ""
    assert flash(client, "done=proposed&stage=production") == ""  # no such proposal branch: nothing to announce


def test_proposal_flash_names_the_branch_the_server_created(
    client: falcon.testing.TestClient, ui_registry: Registry
) -> None:
    nonce, token = session(client)
    resp = client.simulate_post(
        VERSION_PAGE,
        host=HOST,
        cookies={COOKIE: nonce},
        headers={**FORM, "Origin": f"http://{HOST}"},
        body=urlencode({"csrf_token": token, "action": "propose", "stage": "Production"}),
    )
    assert resp.status_code == 303
    location = resp.headers["Location"]
    assert "branch=" not in location and "done=proposed" in location
    target = urlsplit(location)
    assert target.path == VERSION_PAGE
    assert flash(client, target.query).startswith(f"Proposal branch promote/production/{MODEL}-v2 created")


def start_ui(registry: Registry, *args: str) -> tuple[subprocess.Popen[str], int]:
    port = testing.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitreg", "-r", str(registry.path), "ui", "--port", str(port), *args],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if request(port, "GET", "/static/style.css")[0] == 200:
                return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"gitreg ui did not start:\n{proc.communicate()[0]}") from None
            time.sleep(0.1)


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: str = ""
) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


@pytest.fixture
def ui_process(ui_registry: Registry) -> Iterator[UiServer]:
    proc, port = start_ui(ui_registry, "--allow-writes", "--allowed-host", "registry.test")
    yield UiServer(f"http://127.0.0.1:{port}", ui_registry, proc)
    stop(proc)


def test_ui_process_answers_only_allowed_hosts_and_origins(ui_process: UiServer) -> None:
    port = int(ui_process.url.rsplit(":", 1)[1])
    assert request(port, "GET", "/")[0] == 200
    assert request(port, "GET", "/", {"Host": f"registry.test:{port}"})[0] == 200
    status, body = request(port, "GET", VERSION_PAGE, {"Host": f"evil.example:{port}"})
    assert status == 421 and "--allowed-host evil.example" in body and "csrf_token" not in body
    status, body = request(port, "POST", VERSION_PAGE, {**FORM, "Origin": "http://evil.example"}, "action=promote")
    assert status == 403 and "Refused a write from http://evil.example" in body


def test_ui_refuses_a_bad_allowed_host_before_starting(ui_registry: Registry) -> None:
    result = testing.run_cli("-r", str(ui_registry.path), "ui", "--allowed-host", "http://x/")
    assert result.returncode != 0
    assert "not a host name" in result.stderr and "Traceback" not in result.stderr


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def rebinding_browser() -> Iterator[Any]:
    """Chromium whose DNS sends rebind.test, attacker.test and registry.test to 127.0.0.1."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    rules = "MAP rebind.test 127.0.0.1, MAP attacker.test 127.0.0.1, MAP registry.test 127.0.0.1"
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--host-resolver-rules={rules}"]
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        browser.close()


def test_browser_on_a_rebound_name_gets_no_registry_page(ui_process: UiServer, rebinding_browser: Any) -> None:
    page = rebinding_browser
    port = ui_process.url.rsplit(":", 1)[1]
    response = page.goto(f"http://rebind.test:{port}{VERSION_PAGE}")
    assert response.status == 421
    assert "csrf_token" not in page.content() and "--allowed-host rebind.test" in page.content()
    assert page.goto(f"http://registry.test:{port}{VERSION_PAGE}").status == 200  # a name it was given


def test_browser_form_posted_from_another_site_is_refused(ui_process: UiServer, rebinding_browser: Any) -> None:
    page = rebinding_browser
    reg = ui_process.registry
    before = reg.store.ref("refs/heads/stages/production")
    page.goto(ui_process.url + VERSION_PAGE)  # the victim has the registry open: its CSRF cookie is set
    attack = (
        f'<form method="post" action="{ui_process.url}{VERSION_PAGE}">'
        '<input name="action" value="promote"><input name="stage" value="Production"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    page.route("http://attacker.test/", lambda route: route.fulfill(content_type="text/html", body=attack))
    with page.expect_navigation(url=f"**{VERSION_PAGE}") as nav:
        page.goto("http://attacker.test/")
    assert nav.value.status == 403
    assert "Refused a write" in page.content()
    assert reg.store.ref("refs/heads/stages/production") == before
