"""``gitreg ui`` refuses what it cannot serve in one line, before serving anything,
and commits browser writes as the person a trusted proxy header names when told to."""

from __future__ import annotations

import http.cookiejar
import re
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
from helpers.ui_process import start_ui, stop

from gitreg import testing
from gitreg.registry import Registry
from gitreg.testing import file_package, run_cli


def test_ui_on_a_missing_registry_is_a_one_line_error(env: dict[str, str]) -> None:
    proc = run_cli("ui", "-r", "/no/such/registry", env=env)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        "Error: Registry '/no/such/registry' does not exist. Create it with 'gitreg init /no/such/registry'."
    ]
    assert "Traceback" not in proc.stderr


def test_ui_on_a_port_in_use_is_a_one_line_error(registry: Registry, env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("ui", "-r", str(registry.path), "--port", str(port), env=env, timeout=60)
    assert proc.returncode == 1
    assert (
        proc.stderr.strip()
        == f"Error: Cannot listen on 127.0.0.1:{port}: Address already in use. Choose another port with --port."
    )
    assert proc.stdout == ""


@contextmanager
def running_ui(reg: Registry, *options: str, env: dict[str, str]) -> Iterator[str]:
    """A real ``gitreg ui --allow-writes`` process on 127.0.0.1; yields its URL."""
    proc, url = start_ui(reg.path, allow_writes=True, env=env, options=options)
    try:
        yield url
    finally:
        stop(proc)


def set_alias_through_the_page(url: str, alias: str, headers: dict[str, str]) -> str:
    """What a browser behind the proxy does: load the version page, post its "Set alias" form."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page_url = f"{url}/models/m/versions/1"
    page = opener.open(urllib.request.Request(page_url, headers=headers), timeout=30).read().decode()
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert match, page
    form = urlencode({"csrf_token": match.group(1), "action": "set_alias", "alias": alias}).encode()
    answer = opener.open(urllib.request.Request(page_url, data=form, headers=headers), timeout=30)
    return answer.geturl()


def author(reg: Registry, ref: str) -> str:
    return reg.store.git("log", "-1", "--format=%an <%ae>", ref, "--").decode().strip()


PROXY_HEADERS = {"X-Forwarded-User": "Ada Lovelace", "X-Auth-Email": "ada@example.com"}


def test_trust_user_header_commits_each_write_as_the_person_the_header_names(
    registry: Registry, tmp_path: Path, env: dict[str, str]
) -> None:
    registry.register("m", file_package(tmp_path / "p", {"model.bin": b"one"}))
    with running_ui(registry, "--trust-user-header", "--trust-email-header", "X-Auth-Email", env=env) as url:
        assert set_alias_through_the_page(url, "reviewed", PROXY_HEADERS).endswith("done=alias_set")
    assert author(registry, "refs/heads/stages/reviewed") == "Ada Lovelace <ada@example.com>"


def test_without_trust_user_header_the_header_is_ignored_and_the_server_writes(
    registry: Registry, tmp_path: Path, env: dict[str, str]
) -> None:
    registry.register("m", file_package(tmp_path / "p", {"model.bin": b"one"}))
    with running_ui(registry, env=env) as url:
        assert set_alias_through_the_page(url, "reviewed", PROXY_HEADERS).endswith("done=alias_set")
    assert author(registry, "refs/heads/stages/reviewed") == str(registry.store.identity())
    assert "Ada" not in author(registry, "refs/heads/stages/reviewed")


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--trust-email-header", "X-Auth-Email"], "The email header X-Auth-Email is trusted only with a user header"),
        (["--trust-user-header", "X Forwarded User"], "'X Forwarded User' is not an HTTP header name."),
    ],
)
def test_a_trusted_header_that_cannot_work_is_refused_before_serving(
    registry: Registry, env: dict[str, str], options: list[str], said: str
) -> None:
    before = registry.store.ref("refs/heads/main")
    proc = run_cli("ui", "-r", str(registry.path), "--port", str(testing.free_port()), *options, env=env, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {said}"), lines
    assert registry.store.ref("refs/heads/main") == before
