"""The proposals page of ``gitreg ui``: the review queue in a browser."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from helpers.proposals import queue_proposals
from ui_support import start_ui, stop

from gitreg.registry import Registry


def test_the_proposals_page_lists_the_queue_with_deltas_and_verdicts(registry: Registry, tmp_path: Path) -> None:
    queue_proposals(registry, tmp_path)
    proc, base = start_ui(registry.path, allow_writes=False)
    try:
        with urllib.request.urlopen(f"{base}/proposals") as resp:
            html = resp.read().decode()
    finally:
        stop(proc)
    assert "promote/production/m-v3" in html and "policy fails" in html and "policy passes" in html
    assert "accuracy</b> 0.95 → 0.85" in html
