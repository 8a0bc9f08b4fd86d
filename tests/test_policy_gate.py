"""The promotion policy enforced where writes happen: Registry.promote (so the CLI, the client and the
UI) refuses a violating promotion before writing, with the same findings gitreg check reports."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitreg.check import check_registry
from gitreg.client import Client
from gitreg.errors import InvalidInputError, PolicyError
from gitreg.registry import Registry
from gitreg.testing import file_package, run_cli

POLICY = (
    "\npolicy:\n  staging:\n    metrics: {accuracy: '>= 0.8'}\n"
    "  production:\n    requires_stage: staging\n    metrics: {accuracy: '>= 0.9'}\n"
)


@pytest.fixture
def guarded(registry: Registry, tmp_path: Path) -> Registry:
    """m v1 (0.85), v2 (0.95), v3 (0.7); the policy above on main."""
    for i, acc in enumerate((0.85, 0.95, 0.7), start=1):
        registry.register("m", file_package(tmp_path / f"p{i}", {"model.bin": f"v{i}"}, metrics={"accuracy": acc}))
    config = registry.path / "registry.yaml"
    config.write_text(config.read_text().rstrip() + POLICY)
    subprocess.run(["git", "-C", str(registry.path), "commit", "-qam", "policy"], check=True)
    return registry


def stage_head(reg: Registry, stage: str) -> str | None:
    return reg.store.ref(f"refs/heads/stages/{stage}")


def test_a_promotion_the_policy_refuses_writes_nothing_and_names_the_findings(guarded: Registry) -> None:
    with pytest.raises(PolicyError) as refused:
        guarded.promote("m", 2, "Production")
    assert {f.rule for f in refused.value.findings} == {"policy-requires-stage"}  # type: ignore[attr-defined]
    assert "production requires a version that has been in staging" in str(refused.value)
    assert stage_head(guarded, "production") is None and stage_head(guarded, "staging") is None
    assert refused.value.http_status == 422 and isinstance(refused.value, InvalidInputError)


def test_a_promotion_the_policy_allows_lands(guarded: Registry) -> None:
    guarded.promote("m", 2, "Staging")
    guarded.promote("m", 2, "Production")
    assert guarded.stages_of("m") == {"production": 2}  # it left staging (MLflow's exclusive stages)
    assert check_registry(guarded.store) == []


def test_the_client_and_the_cli_are_held_to_the_policy(guarded: Registry) -> None:
    client = Client(guarded.path)
    with pytest.raises(PolicyError, match=r"staging requires accuracy >= 0\.8; version 3 has 0\.7"):
        client.transition_model_version_stage("m", 3, "Staging")
    out = run_cli("promote", "m", "3", "staging", "-r", str(guarded.path))
    assert out.returncode == 1 and "version 3 has 0.7" in out.stderr and "--override-policy" in out.stderr


def test_an_override_is_recorded_in_the_commit_and_logged(guarded: Registry) -> None:
    guarded.flush_warnings()
    guarded.promote("m", 3, "Staging", override_policy="canary for INC-9")
    message = guarded.store.log("refs/heads/stages/staging", max_count=1)[0].body
    assert message.splitlines()[-4:] == [
        "Gitreg-Stage: staging",
        "Gitreg-Model: m",
        "Gitreg-Version: 3",
        "Gitreg-Policy-Override: canary for INC-9",
    ]
    (warning,) = guarded.flush_warnings()
    assert "overridden (canary for INC-9)" in warning and "policy-metric: m v3" in warning
    # check and the gate say the same thing about the overridden state
    assert check_registry(guarded.store) == []
    (finding,) = check_registry(guarded.store, allow_overrides=False)
    assert finding.line() in warning


def test_an_override_needs_a_reason(guarded: Registry) -> None:
    with pytest.raises(InvalidInputError, match="needs a reason"):
        guarded.promote("m", 3, "Staging", override_policy="  ")


def test_an_override_bound_to_another_version_does_not_count(guarded: Registry, tmp_path: Path) -> None:
    """A commit that copies an override trailer onto another version's stage state overrides nothing."""
    guarded.promote("m", 3, "Staging", override_policy="ok for v3")
    guarded.promote("m", 1, "Staging")
    work = tmp_path / "hand"
    subprocess.run(["git", "clone", "-q", f"file://{guarded.path}", str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-qB", "stages/staging", "origin/stages/staging"], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", "m/v3", "--", "models/m"], check=True)
    message = "Put v3 back\n\nGitreg-Stage: staging\nGitreg-Model: m\nGitreg-Version: 1\nGitreg-Policy-Override: x"
    subprocess.run(["git", "-C", str(work), "commit", "-qam", message], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "stages/staging"], check=True)
    assert {f.rule for f in check_registry(guarded.store)} == {"policy-metric"}
