"""The shipped CI workflow and pre-commit hook say what gitreg check needs."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_github_workflow_checks_pull_requests_to_stages_with_full_history() -> None:
    flow = yaml.safe_load((ROOT / "docs/ci/github-actions.yml").read_text())
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads a bare `on` as true
    assert triggers["pull_request"]["branches"] == ["stages/**"]
    steps = flow["jobs"]["check"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    runs = [s.get("run", "") for s in steps]
    assert 'gitreg check --base "origin/${{ github.base_ref }}"' in runs


def test_pre_commit_hooks_check_the_index_per_commit_and_the_registry_per_push() -> None:
    staged, whole = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert staged["id"] == "gitreg-check" and staged["entry"] == "gitreg check --staged"
    assert whole["id"] == "gitreg-check-registry" and whole["entry"] == "gitreg check"
    assert "pre-commit" in staged["stages"] and "pre-push" in whole["stages"]
    for hook in (staged, whole):
        assert hook["pass_filenames"] is False and hook["always_run"] is True
