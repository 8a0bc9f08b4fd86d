"""The review queue: open promote/* branches with metric deltas and the policy's verdict, in the CLI and the UI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.proposals import queue_proposals

from gitreg.proposals import open_proposals
from gitreg.registry import Registry
from gitreg.testing import run_cli


@pytest.fixture
def queued(registry: Registry, tmp_path: Path) -> Registry:
    """production holds v2 (0.95); proposals: v3 (0.85, never in staging) for production, v1 for archived."""
    return queue_proposals(registry, tmp_path)


def test_open_proposals_show_deltas_against_the_holder_and_the_policy_result(queued: Registry) -> None:
    found = {p.branch: p for p in open_proposals(queued)}
    assert set(found) == {"promote/production/m-v3", "promote/archived/m-v1"}
    prod = found["promote/production/m-v3"]
    assert prod.holder == 2 and [(m.key, round(m.delta or 0, 6)) for m in prod.metrics] == [("accuracy", -0.1)]
    assert {f.rule for f in prod.findings} == {"policy-requires-stage", "policy-metric"} and not prod.passes
    assert found["promote/archived/m-v1"].passes and found["promote/archived/m-v1"].holder is None


def test_a_merged_proposal_leaves_the_queue(queued: Registry) -> None:
    queued.promote("m", 1, "archived")
    assert [p.branch for p in open_proposals(queued)] == ["promote/production/m-v3"]


def test_proposals_cli_lists_the_queue(queued: Registry) -> None:
    out = run_cli("proposals", "--json", "-r", str(queued.path))
    assert out.returncode == 0, out.stderr
    by_branch = {p["branch"]: p for p in json.loads(out.stdout)}
    assert by_branch["promote/production/m-v3"]["policy"] == "fail"
    assert by_branch["promote/production/m-v3"]["current_version"] == 2
    out = run_cli("proposals", "-r", str(queued.path))
    assert "promote/production/m-v3" in out.stdout and "accuracy -0.1" in out.stdout and "fail (2)" in out.stdout
