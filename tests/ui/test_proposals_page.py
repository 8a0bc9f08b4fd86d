"""The proposals page of ``gitreg ui``: the review queue in a browser."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

from ui_support import start_ui, stop

from gitreg.registry import Registry
from gitreg.testing import file_package

POLICY = "\npolicy:\n  production:\n    requires_stage: staging\n    metrics: {accuracy: '>= 0.9'}\n"


def test_the_proposals_page_lists_the_queue_with_deltas_and_verdicts(registry: Registry, tmp_path: Path) -> None:
    for i, acc in enumerate((0.8, 0.95, 0.85), start=1):
        registry.register("m", file_package(tmp_path / f"p{i}", {"model.bin": f"v{i}"}, metrics={"accuracy": acc}))
    registry.promote("m", 2, "staging")
    registry.promote("m", 2, "production")
    config = registry.path / "registry.yaml"
    config.write_text(config.read_text().rstrip() + POLICY)
    subprocess.run(["git", "-C", str(registry.path), "commit", "-qam", "policy"], check=True)
    registry.propose("m", 3, "production")
    registry.propose("m", 1, "archived")
    proc, base = start_ui(registry.path, allow_writes=False)
    try:
        with urllib.request.urlopen(f"{base}/proposals") as resp:
            html = resp.read().decode()
    finally:
        stop(proc)
    assert "promote/production/m-v3" in html and "policy fails" in html and "policy passes" in html
    assert "accuracy</b> 0.95 → 0.85" in html
