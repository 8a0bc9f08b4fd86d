"""The models page of a large registry lists it page by page from batched
reads (gitreg.overview), and agrees with Registry.get_model."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from ui_support import build_large_registry, start_ui, stop


@pytest.mark.slow
def test_models_page_of_a_thousand_models_pages_and_agrees_with_get_model(tmp_path: Path) -> None:
    reg = build_large_registry(tmp_path / "large.git", models=1000, versions=3)
    proc, url = start_ui(reg.path, allow_writes=False)
    try:
        first = urllib.request.urlopen(url + "/", timeout=60).read().decode()
        last = urllib.request.urlopen(url + "/?page=20", timeout=60).read().decode()
    finally:
        stop(proc)
    assert "1000 models" in first and "Page 1 of 20" in first
    assert len(re.findall(r'<a class="model-name"', first)) == 50
    names = re.findall(r'<a class="model-name" href="/models/([^"]+)"', last)
    assert names == [f"model-{i:04d}" for i in range(950, 1000)]
    model = reg.get_model("model-0999")
    assert model.aliases == {"Production": 1, "Staging": 3}
    row = last.split('href="/models/model-0999"', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"badge-(\w+)\">\w+</span><a href=\"/models/model-0999/versions/(\d)\"", row) == [
        ("production", "1"),
        ("staging", "3"),
    ]
