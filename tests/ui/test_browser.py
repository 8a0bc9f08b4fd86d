"""The registry browser driven in a real headless Chromium against a real
``gitreg ui`` process: what each page shows is checked against the registry,
and every write is checked in git afterwards. Screenshots of each page go to
``test-artifacts/ui/``."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from browser_support import shot
from ui_support import MODEL, OTHER, UiServer, build_large_registry, start_ui, stop

from gitreg import runs
from gitreg.registry import Registry


def stage_heads(reg: Registry) -> dict[str, str | None]:
    return {s: reg.store.ref(f"refs/heads/stages/{s}") for s in reg.stage_names()}


def post(url: str, fields: dict[str, str], cookie: str | None = None) -> int:
    """A POST from outside the browser, as a forged cross-site request would be."""
    req = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    if cookie:
        req.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_models_list_to_model_to_version_shows_the_registry(ui_server: UiServer, page: Any) -> None:
    reg = ui_server.registry
    page.goto(ui_server.url + "/")
    rows = page.locator("table.models tbody tr")
    assert rows.count() == 2
    iris = page.locator("table.models tbody tr", has_text=MODEL)
    assert "Production" in iris.inner_text() and "v4" in iris.inner_text()
    assert iris.locator(".stage-at", has_text="Production").inner_text().endswith("v3")
    assert iris.locator(".stage-at", has_text="Staging").inner_text().endswith("v4")
    assert page.locator("form[method=post]").count() == 0  # read-only: no forms at all
    shot(page, "models")

    page.click(f"table.models >> text={MODEL}")
    page.wait_for_url(f"**/models/{MODEL}")
    assert page.locator("h1").inner_text() == MODEL
    versions = page.locator("table.versions tbody tr")
    assert versions.count() == len(reg.version_numbers(MODEL)) == 4
    v3 = page.locator("table.versions tbody tr", has_text="Version 3")
    assert "Production" in v3.inner_text() and "champion" in v3.inner_text()
    assert reg.get_version(MODEL, 3).commit[:7] in v3.inner_text()
    assert page.locator("svg.chart circle").count() == 4
    timeline = page.locator("ol.timeline").inner_text()
    assert "now holds version 3" in timeline and "Version 1 registered" in timeline
    assert page.locator("form[method=post]").count() == 0
    shot(page, "model")

    page.click("table.versions >> text=Version 3")
    page.wait_for_url(f"**/models/{MODEL}/versions/3")
    text = page.locator("main").inner_text()
    ref = reg.version_ref(MODEL, 3)
    for artifact in ref.manifest.artifacts:
        assert artifact.sha256 in text
    assert "0.91" in text and "Best accuracy so far." in text
    assert page.locator("#snip-uri").inner_text() == f"models:/{MODEL}/3"
    assert "--port 5001" in page.locator("#snip-serve").inner_text()
    curl = page.locator("#snip-curl").inner_text()
    assert '"dataframe_split"' in curl and '"columns": ["x"]' in curl
    assert page.locator("button.copy:visible").count() == 4  # JavaScript revealed the copy buttons
    shot(page, "version")


def test_metric_chart_follows_the_chosen_metric(ui_server: UiServer, page: Any) -> None:
    page.goto(f"{ui_server.url}/models/{MODEL}")
    page.select_option("select[name=metric]", "f1")
    page.click("text=Show")
    page.wait_for_url("**metric=f1")
    titles = page.locator("svg.chart circle title").all_text_contents()
    assert titles == ["version 1: 0.78", "version 2: 0.83", "version 3: 0.88", "version 4: 0.9"]


def test_compare_page_shows_the_diff(ui_server: UiServer, page: Any) -> None:
    page.goto(f"{ui_server.url}/models/{MODEL}")
    page.click("button:has-text('Compare')")
    page.wait_for_url(f"**/models/{MODEL}/compare?a=3&b=4")
    accuracy = page.locator("tr", has_text="accuracy")
    assert "0.91" in accuracy.inner_text() and "0.89" in accuracy.inner_text() and "-0.02" in accuracy.inner_text()
    assert "removed" in page.locator("tr", has_text="validated").inner_text().lower()
    shot(page, "compare")


def test_logged_models_page_lists_runs(ui_server: UiServer, page: Any) -> None:
    (run,) = runs.list_runs()
    page.goto(ui_server.url + "/runs")
    row = page.locator("table.runs tbody tr")
    assert f"runs:/{run.info.run_id}/model" in row.inner_text()
    assert "accuracy 0.93" in row.inner_text() and "not registered" in row.inner_text()
    assert page.locator("form[method=post]").count() == 0
    shot(page, "runs")


def test_bad_urls_get_a_404_page(ui_server: UiServer, page: Any) -> None:
    for path in (
        "/models/no-such-model",
        f"/models/{MODEL}/versions/99",
        f"/models/{MODEL}/versions/abc",
        "/models/..%2Fetc",
        f"/models/{MODEL}/compare?a=1&b=42",
        "/nothing/here",
    ):
        response = page.goto(ui_server.url + path)
        assert response.status == 404, path
        assert page.locator("h1").inner_text() == "Not found", path
        assert "Traceback" not in page.content()
    page.goto(ui_server.url + "/models/no-such-model")
    shot(page, "not-found")


def test_read_only_server_refuses_posts(ui_server: UiServer) -> None:
    before = stage_heads(ui_server.registry)
    status = post(f"{ui_server.url}/models/{MODEL}/versions/4", {"action": "promote", "stage": "Production"})
    assert status in (403, 405)
    assert stage_heads(ui_server.registry) == before


def test_promote_from_the_version_page_moves_the_stage(ui_writer: UiServer, page_without_js: Any) -> None:
    """Done with JavaScript off: the pages work without it."""
    reg = ui_writer.registry
    page = page_without_js
    page.goto(f"{ui_writer.url}/models/{MODEL}/versions/4")
    assert page.locator("button.copy:visible").count() == 0  # copy buttons need JavaScript; the text is there
    assert page.locator("#snip-uri").inner_text() == f"models:/{MODEL}/4"
    shot(page, "version-writable")
    page.select_option("select[name=stage]", "Production")
    page.check("input[name=archive_existing]")
    page.click("text=Move…")
    # The confirmation step, a plain form: nothing has moved yet.
    assert "Move version 4 of iris-classifier to Production?" in page.locator(".confirm").inner_text()
    assert reg.stage_ref_version(MODEL, "production").version == 3  # type: ignore[union-attr]
    shot(page, "confirm-promotion")
    page.click("text=Yes, move version 4 to Production")
    page.wait_for_url("**done=promoted")
    assert page.locator(".flash").inner_text() == "Promoted."
    assert "Production" in page.locator(".page-head").inner_text()
    assert reg.stage_ref_version(MODEL, "production").version == 4  # type: ignore[union-attr]
    assert reg.stage_ref_version(MODEL, "archived").version == 3  # type: ignore[union-attr]
    assert reg.stage_ref_version(MODEL, "staging") is None  # a version holds one fixed stage, as in MLflow


def test_propose_creates_a_review_branch_and_leaves_the_stage(ui_writer: UiServer, page: Any) -> None:
    reg = ui_writer.registry
    before = stage_heads(reg)
    page.goto(f"{ui_writer.url}/models/{MODEL}/versions/4")
    page.select_option("select[name=stage]", "Production")
    page.click("text=Propose for review")
    page.wait_for_url("**done=proposed")
    branch = f"promote/production/{MODEL}-v4"
    assert branch in page.locator(".flash").inner_text()
    proposal = reg.store.ref(f"refs/heads/{branch}")
    assert proposal is not None
    assert reg.store.tree_oid(f"{proposal}:models/{MODEL}") == reg.version_ref(MODEL, 4).tree
    assert stage_heads(reg) == before  # the stage moves only when the pull request is merged
    assert reg.stage_ref_version(MODEL, "production").version == 3  # type: ignore[union-attr]
    shot(page, "proposed")


def test_refused_promotion_shows_the_error_and_changes_nothing(ui_writer: UiServer, page: Any) -> None:
    reg = ui_writer.registry
    before = stage_heads(reg)
    page.goto(f"{ui_writer.url}/models/{MODEL}/versions/2")
    offered = page.locator("select[name=stage] option").all_inner_texts()
    assert offered == ["Archived", "Production", "Staging", "None"]  # the declared stages, and None
    # A stage the chooser does not offer (an alias name, posted by a hand-edited form) is refused.
    page.locator("select[name=stage]").evaluate("s => { s.options[0].value = 'champion' }")
    page.select_option("select[name=stage]", "champion")
    with page.expect_navigation() as nav:
        page.click("text=Move…")
    assert nav.value.status == 400
    assert "is not one of this registry's stages" in page.locator(".error").inner_text()
    assert stage_heads(reg) == before


def test_forged_posts_without_a_valid_token_change_nothing(ui_writer: UiServer, page: Any) -> None:
    reg = ui_writer.registry
    before = (stage_heads(reg), reg.store.ref("refs/heads/main"))
    target = f"{ui_writer.url}/models/{MODEL}/versions/2"
    fields = {"action": "promote", "stage": "Production"}
    assert post(target, fields) == 403
    assert post(target, {**fields, "csrf_token": "0" * 64}, cookie="gitreg_csrf=abc") == 403
    page.goto(target)  # a real token, but for another browser's cookie
    token = page.locator("input[name=csrf_token] >> nth=0").input_value()
    assert post(target, {**fields, "csrf_token": token}, cookie="gitreg_csrf=someone-else") == 403
    assert post(f"{ui_writer.url}/models/{MODEL}", {"action": "description", "description": "x"}) == 403
    assert (stage_heads(reg), reg.store.ref("refs/heads/main")) == before


def test_description_and_tags_are_edited_on_the_model_page(ui_writer: UiServer, page: Any) -> None:
    reg = ui_writer.registry
    page.goto(f"{ui_writer.url}/models/{MODEL}")
    page.fill("textarea[name=description]", "Now with <b>markup</b> that must stay text.")
    page.click("text=Save description")
    page.wait_for_url("**done=description")
    assert reg.record(MODEL).description == "Now with <b>markup</b> that must stay text."
    assert page.locator(".description").inner_text() == "Now with <b>markup</b> that must stay text."
    page.fill("input[name=key]:not([type=hidden])", "owner")
    page.fill("input[name=value]", "alice")
    page.click("text=Set tag")
    page.wait_for_url("**done=tag_set")
    assert reg.record(MODEL).tags == {"team": "vision", "owner": "alice"}
    page.locator("form.tag-row", has_text="team").locator("button").click()
    page.wait_for_url("**done=tag_deleted")
    assert reg.record(MODEL).tags == {"owner": "alice"}


def test_version_tag_with_an_invalid_key_is_refused(ui_writer: UiServer, page: Any) -> None:
    reg = ui_writer.registry
    before = reg.store.ref("refs/heads/main")
    page.goto(f"{ui_writer.url}/models/{MODEL}/versions/3")
    page.fill("input[name=key]:not([type=hidden])", " padded ")
    page.click("text=Set tag")
    page.wait_for_selector(".error")
    assert "Invalid tag key" in page.locator(".error").inner_text()
    assert reg.store.ref("refs/heads/main") == before


def test_register_a_logged_model_from_the_runs_page(ui_writer: UiServer, page: Any) -> None:
    reg = ui_writer.registry
    page.goto(ui_writer.url + "/runs")
    page.fill("input[name=name]", OTHER)
    page.click("button:has-text('Register')")
    page.wait_for_url(f"**/models/{OTHER}/versions/3?done=registered")
    assert reg.version_numbers(OTHER) == [1, 2, 3]
    assert reg.get_version(OTHER, 3).metrics == {"accuracy": 0.93}
    page.goto(ui_writer.url + "/runs")
    assert f"registered as {OTHER} v3" in page.locator("table.runs").inner_text()


def test_pages_are_linked_by_stable_urls(ui_server: UiServer, page: Any) -> None:
    page.goto(ui_server.url + "/")
    hrefs = page.locator("table.models tbody a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert f"/models/{MODEL}" in hrefs and f"/models/{MODEL}/versions/4" in hrefs
    assert all(re.fullmatch(r"/models/[\w.-]+(/versions/\d+)?", h) for h in hrefs)


def test_a_long_version_list_pages_newest_first(tmp_path: Path, page: Any) -> None:
    reg = build_large_registry(tmp_path / "paged.git", models=1, versions=120)
    proc, url = start_ui(reg.path, allow_writes=False)

    def shown() -> list[int]:
        cells = page.locator("table.versions tbody tr td:nth-child(2) a").all_inner_texts()
        return [int(text.removeprefix("Version ")) for text in cells]

    try:
        page.goto(url + "/models/model-0000")
        assert shown() == list(range(120, 70, -1))
        assert page.inner_text(".count") == "120 versions · showing versions 120 to 71"
        assert page.locator("select[name=a] option").count() == 120  # compare reaches every version
        events = page.locator("ol.timeline li .what").all_inner_texts()  # of 120 registrations and 2 stage moves
        assert len(events) == 50 and events[-1] == "Version 73 registered"
        assert "The latest 50 events" in page.inner_text("main")
        shot(page, "model-paged")
        page.click("text=Older →")
        assert shown() == list(range(70, 20, -1))
        page.click("text=Older →")
        assert shown() == list(range(20, 0, -1))
        assert page.locator("text=Older →").count() == 0
        assert "Page 3 of 3" in page.inner_text("nav.pager")
        page.click("text=← Newer")
        assert shown() == list(range(70, 20, -1))
        page.goto(url + "/models/model-0000?page=99")  # past the end: the last page, as the models list does
        assert shown() == list(range(20, 0, -1))
    finally:
        stop(proc)
