"""Writes that are safe, in headless Chromium against a real ``gitreg ui``:
the confirmation step (with JavaScript off), aliases set and removed one by
one, demotion, deletion, "Propose and push" showing the pull-request page,
and writes attributed to the person an authenticating proxy names. Every
write is checked in git afterwards; screenshots go to ``test-artifacts/ui/``."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import shot
from ui_support import MODEL, OTHER, UiServer, start_ui, stop

from gitreg.registry import Registry


def _author(reg: Registry, rev: str) -> str:
    return reg.store.git("log", "-1", "--format=%an <%ae>", rev, "--").decode().strip()


def test_demote_asks_first_and_works_without_javascript(ui_writer: UiServer, page_without_js: Any) -> None:
    reg, page = ui_writer.registry, page_without_js
    page.goto(f"{ui_writer.url}/models/{MODEL}/versions/3")
    page.click("text=Demote (leave Production)…")
    assert "Take version 3 of iris-classifier out of Production?" in page.locator(".confirm").inner_text()
    assert reg.stage_ref_version(MODEL, "production").version == 3  # type: ignore[union-attr]
    page.click("text=Yes, demote version 3")
    page.wait_for_url("**done=demoted")
    assert reg.stage_ref_version(MODEL, "production") is None
    assert "Production" not in page.locator(".page-head").inner_text()  # the champion alias stays


def test_cancel_on_the_confirmation_page_changes_nothing(ui_writer: UiServer, page_without_js: Any) -> None:
    reg, page = ui_writer.registry, page_without_js
    before = reg.store.ref("refs/heads/stages/production")
    page.goto(f"{ui_writer.url}/models/{MODEL}/versions/1")
    page.select_option("select[name=stage]", "Production")
    page.click("text=Move…")
    page.click("text=Cancel")
    assert page.url.endswith(f"/models/{MODEL}/versions/1")
    assert reg.store.ref("refs/heads/stages/production") == before


def test_aliases_are_set_and_removed_one_by_one(ui_writer: UiServer, page_without_js: Any) -> None:
    reg, page = ui_writer.registry, page_without_js
    page.goto(f"{ui_writer.url}/models/{MODEL}/versions/3")
    assert "champion" in page.locator(".alias-row").inner_text()
    page.fill("input[name=alias]:visible", "shadow")
    page.click("text=Set alias")
    page.wait_for_url("**done=alias_set")
    assert reg.stage_ref_version(MODEL, "shadow").version == 3  # type: ignore[union-attr]
    assert reg.stage_ref_version(MODEL, "champion").version == 3  # type: ignore[union-attr]
    page.locator(".alias-row", has_text="champion").locator("button").click()
    page.wait_for_url("**done=alias_removed")
    assert reg.stage_ref_version(MODEL, "champion") is None
    assert reg.stage_ref_version(MODEL, "shadow").version == 3  # type: ignore[union-attr]
    assert reg.stage_ref_version(MODEL, "production").version == 3  # type: ignore[union-attr]  # stages stay
    shot(page, "aliases")


def test_delete_a_version_then_the_model_after_confirming(ui_writer: UiServer, page_without_js: Any) -> None:
    reg, page = ui_writer.registry, page_without_js
    page.goto(f"{ui_writer.url}/models/{OTHER}/versions/2")
    page.click("text=Delete version 2…")
    assert 2 in reg.version_numbers(OTHER)  # asked, not done
    shot(page, "confirm-delete-version")
    page.click("text=Yes, delete version 2")
    page.wait_for_url(f"**/models/{OTHER}?done=version_deleted")
    assert reg.version_numbers(OTHER) == [1]
    page.click(f"text=Delete model {OTHER}…")
    assert OTHER in reg.model_names()
    page.click(f"text=Yes, delete {OTHER}")
    page.wait_for_url("**/?done=model_deleted")
    assert OTHER not in reg.model_names()
    assert page.locator(".flash").inner_text() == "Model deleted."


def test_propose_and_push_links_to_the_pull_request(ui_registry: Registry, tmp_path: Path, page: Any) -> None:
    """The registry's origin reads as GitHub; git's insteadOf sends the push to a local bare repository."""
    bare = tmp_path / "forge.git"
    subprocess.run(["git", "init", "--bare", "--quiet", str(bare)], check=True)
    github = "https://github.com/acme/registry.git"
    ui_registry.store.git("remote", "add", "origin", github)
    ui_registry.store.git("config", f"url.{bare.as_uri()}.insteadOf", github)
    proc, url = start_ui(ui_registry.path, allow_writes=True)
    try:
        page.goto(f"{url}/models/{MODEL}/versions/4")
        page.select_option("select[name=stage]", "Production")
        page.click("text=Propose and push")
        link = page.locator(".flash a.pull-request")
        branch = f"promote/production/{MODEL}-v4"
        assert link.get_attribute("href") == (
            f"https://github.com/acme/registry/compare/stages/production...{branch}?expand=1"
        )
        pushed = subprocess.run(
            ["git", f"--git-dir={bare}", "rev-parse", f"refs/heads/{branch}"], capture_output=True, text=True
        )
        assert pushed.returncode == 0
        # Commits link to the forge too.
        page.goto(f"{url}/models/{MODEL}")
        assert "https://github.com/acme/registry/commit/" in (
            page.locator("table.versions a.commit").first.get_attribute("href") or ""
        )
        shot(page, "propose-and-push")
    finally:
        stop(proc)


@pytest.fixture
def proxied(ui_registry: Registry) -> Iterator[UiServer]:
    env = {"GITREG_UI_TRUST_USER_HEADER": "X-Forwarded-User", "GITREG_UI_TRUST_EMAIL_HEADER": "X-Forwarded-Email"}
    proc, url = start_ui(ui_registry.path, allow_writes=True, env=env)
    yield UiServer(url, ui_registry, proc)
    stop(proc)


def test_writes_behind_a_proxy_are_committed_as_the_person_it_names(proxied: UiServer, browser: Any) -> None:
    reg = proxied.registry
    context = browser.new_context(
        java_script_enabled=False,
        extra_http_headers={"X-Forwarded-User": "Ada Lovelace", "X-Forwarded-Email": "ada@example.com"},
    )
    try:
        pg = context.new_page()
        pg.goto(f"{proxied.url}/models/{MODEL}/versions/2")
        assert "Changes are committed as Ada Lovelace <ada@example.com>" in pg.locator(".writer").inner_text()
        pg.fill("input[name=alias]:visible", "reviewed")
        pg.click("text=Set alias")
        pg.wait_for_url("**done=alias_set")
        assert _author(reg, "refs/heads/stages/reviewed") == "Ada Lovelace <ada@example.com>"
        shot(pg, "attributed-write")
    finally:
        context.close()
    anonymous = browser.new_context(java_script_enabled=False)  # past the proxy without its header: refused
    try:
        pg = anonymous.new_page()
        pg.goto(f"{proxied.url}/models/{MODEL}/versions/2")
        pg.fill("input[name=alias]:visible", "sneaky")
        pg.click("text=Set alias")
        assert "X-Forwarded-User header" in pg.locator(".error").inner_text()
        assert reg.stage_ref_version(MODEL, "sneaky") is None
    finally:
        anonymous.close()


def test_without_a_proxy_the_page_names_the_servers_identity(ui_writer: UiServer, page: Any) -> None:
    page.goto(f"{ui_writer.url}/models/{MODEL}")
    who = str(ui_writer.registry.store.identity())
    assert f"Changes are committed as {who} (this server's git identity)" in page.locator(".writer").inner_text()
