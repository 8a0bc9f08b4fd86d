"""What MLflow's registry UI offers, in headless Chromium against a real
``gitreg ui``: sortable tables with a page size, version tags and
descriptions as columns, Markdown descriptions, run and commit links,
artifacts shown and downloaded, several versions compared, narrow screens,
a URL registry named by its URL. Screenshots go to ``test-artifacts/ui/``."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

from browser_support import shot
from ui_support import MODEL, OTHER, UiServer, start_ui, stop

from gitreg.registry import Registry


def _versions_shown(page: Any) -> list[int]:
    cells = page.locator("table.versions tbody tr td:nth-child(2) a").all_inner_texts()
    return [int(t.removeprefix("Version ")) for t in cells]


def test_models_table_sorts_by_a_header_link_and_pages_by_the_chosen_size(ui_server: UiServer, page: Any) -> None:
    page.goto(ui_server.url + "/")
    names = page.locator("table.models tbody a.model-name")
    assert names.all_inner_texts() == [OTHER, MODEL]  # by name, A to Z
    page.click("table.models th >> text=Name")
    assert names.all_inner_texts() == [MODEL, OTHER]
    assert "order=desc" in page.url
    page.click("table.models th >> text=Latest")  # latest version, highest first: iris has 4, churn 2
    assert names.all_inner_texts() == [MODEL, OTHER]
    page.select_option("select[name=per_page]", "10")
    page.click("form.page-size button")
    assert "per_page=10" in page.url and "sort=latest" in page.url
    assert names.all_inner_texts() == [MODEL, OTHER]


def test_versions_table_sorts_by_a_metric_and_shows_tags_and_descriptions(ui_server: UiServer, page: Any) -> None:
    page.goto(f"{ui_server.url}/models/{MODEL}")
    assert _versions_shown(page) == [4, 3, 2, 1]
    page.click("table.versions th >> text=accuracy")  # highest first
    assert _versions_shown(page) == [3, 4, 2, 1]
    page.click("table.versions th >> text=accuracy")
    assert _versions_shown(page) == [1, 2, 4, 3]
    row = page.locator("table.versions tbody tr", has_text="Version 3")
    assert "validated=yes" in row.inner_text() and "Best accuracy so far." in row.inner_text()
    shot(page, "versions-sorted")


def test_descriptions_render_a_safe_markdown_subset(ui_writer: UiServer, page: Any) -> None:
    reg = ui_writer.registry
    reg.update_model(
        MODEL,
        "Trained **nightly**.\n\n- see [the runbook](https://example.com/run)\n- not [this](javascript:alert(1))\n\n"
        "<script>alert(1)</script> `code`",
    )
    page.goto(f"{ui_writer.url}/models/{MODEL}")
    box = page.locator(".description")
    assert box.locator("strong").inner_text() == "nightly"
    assert box.locator("li").count() == 2
    assert box.locator("a").count() == 1
    assert box.locator("a").get_attribute("href") == "https://example.com/run"
    assert "<script>alert(1)</script>" in box.inner_text()  # shown as text, never run
    assert box.locator("script").count() == 0
    assert box.locator("code").inner_text() == "code"


def test_run_ids_link_to_the_logged_models_page(ui_server: UiServer, page: Any) -> None:
    page.goto(f"{ui_server.url}/models/{MODEL}/versions/2")
    page.click("table.provenance a.run")
    assert page.url.endswith("/runs#run-0123456789abcdef")


def test_artifacts_are_shown_as_text_or_downloaded_with_their_checksum(ui_server: UiServer, page: Any) -> None:
    reg = ui_server.registry
    manifest = reg.version_ref(MODEL, 2).manifest
    page.goto(f"{ui_server.url}/models/{MODEL}/versions/2")
    page.click("table.artifacts >> text=MLmodel")
    mlmodel = next(a for a in manifest.artifacts if a.path == "MLmodel")
    assert mlmodel.sha256 in page.inner_text("main")
    assert "flavors" in page.locator("pre.artifact").inner_text()
    shot(page, "artifact-text")
    page.go_back()
    pickle = next(a for a in manifest.artifacts if a.path.endswith(".pkl"))
    row = page.locator("table.artifacts tbody tr", has_text=pickle.path)
    with page.expect_download() as dl:
        row.locator("a.download").click()
    data = Path(dl.value.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == pickle.sha256 and len(data) == pickle.size
    assert dl.value.suggested_filename == pickle.path.rsplit("/", 1)[-1]
    status = page.goto(f"{ui_server.url}/models/{MODEL}/versions/2/artifacts/..%2F..%2Fregistry.yaml")
    assert status is not None and status.status == 404  # only paths the manifest lists


def test_several_versions_compare_with_better_and_worse_coloured(ui_server: UiServer, page: Any) -> None:
    page.goto(f"{ui_server.url}/models/{MODEL}")
    for n in (1, 3, 4):
        page.check(f"input[name=v][value='{n}']")
    page.click("text=Compare checked versions")
    assert page.locator("table.many").first.locator("thead th a").all_inner_texts() == [
        "Version 1",
        "Version 3",
        "Version 4",
    ]
    accuracy = page.locator("table.many tbody tr", has_text="accuracy")
    assert accuracy.locator("td.better").inner_text().startswith("0.91")  # v3: higher is better
    assert accuracy.locator("td.worse").inner_text().startswith("0.81")
    shot(page, "compare-many")


def test_narrow_screen_scrolls_tables_in_their_box_and_keeps_the_chart_legible(
    ui_server: UiServer,
    browser: Any,
) -> None:
    for width, name in ((420, "narrow"), (1440, "wide")):
        context = browser.new_context(viewport={"width": width, "height": 900})
        try:
            pg = context.new_page()
            pg.goto(f"{ui_server.url}/models/{MODEL}")
            page_width = pg.evaluate("document.documentElement.scrollWidth")
            assert page_width <= width  # the page itself never scrolls sideways
            box = pg.locator(".scroll").first
            inner, outer = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
            if width == 420:
                assert inner > outer  # the versions table scrolls inside its box
            chart = pg.locator("svg.chart").bounding_box()
            assert chart is not None and chart["width"] >= 500  # ticks stay at a readable size
            shot(pg, f"model-{name}")
            pg.goto(ui_server.url + "/")
            assert pg.evaluate("document.documentElement.scrollWidth") <= width
            shot(pg, f"models-{name}")
        finally:
            context.close()


def test_errors_link_to_the_models_page_instead_of_advising_a_command(ui_server: UiServer, page: Any) -> None:
    page.goto(f"{ui_server.url}/models/{MODEL}/versions/99")
    text = page.inner_text("main")
    assert "gitreg " not in text
    assert page.locator("main a", has_text="Back to the models").get_attribute("href") == "/"


def test_a_url_registry_is_named_by_its_url(ui_registry: Registry, tmp_path: Path, page: Any) -> None:
    bare = tmp_path / "shared.git"
    subprocess.run(["git", "clone", "--bare", "--quiet", str(ui_registry.path), str(bare)], check=True)
    url = bare.as_uri()
    proc, ui = start_ui(url, allow_writes=False, env={"GITREG_CACHE_DIR": str(tmp_path / "cache")})
    try:
        page.goto(ui + "/")
        banner = page.locator(".registry-banner").inner_text()
        assert url in banner and "cache" not in banner
        page.goto(f"{ui}/models/{MODEL}/versions/2")
        assert url in page.locator("#snip-serve").inner_text()
    finally:
        stop(proc)
