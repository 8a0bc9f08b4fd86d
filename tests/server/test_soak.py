"""A short run of ``benchmarks/soak.py``: a real ``gitreg serve --follow``
with 2 workers at saturation, good and bad requests mixed, the stage
swapped every few seconds. No good request fails, nothing answers 5xx,
every bad request gets a 4xx, and worker memory stays level."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).parents[2] / "benchmarks" / "soak.py"


@pytest.mark.slow
def test_short_soak_with_stage_swaps_has_no_failed_good_requests_and_no_5xx(env: dict[str, str]):
    proc = subprocess.run(
        [sys.executable, str(SOAK), "--seconds", "25", "--swap-every", "6", "--clients", "3", "--json"],
        # a short run's first fifth is still warm-up, so its memory bound is looser than the 5-minute run's 10 %
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["good_failed"] == 0 and report["5xx"] == 0 and report["bad_not_4xx"] == 0, report
    assert report["swaps"] >= 3 and report["good"] > 100 and report["bad"] > 20, report
    assert report["workers_replaced"] == [], report
    assert len(report["rss"]) == 2, report
    for worker in report["rss"].values():
        assert abs(worker["final_kb"] - worker["baseline_kb"]) <= 0.25 * worker["baseline_kb"], report
