"""A review queue for the proposals tests, the CLI's and the UI's: one home
for the registry both read (issue #11)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitreg.registry import Registry
from gitreg.testing import file_package

__all__ = ["POLICY", "queue_proposals"]

#: Production needs a version that was in staging and has accuracy >= 0.9.
POLICY = "\npolicy:\n  production:\n    requires_stage: staging\n    metrics: {accuracy: '>= 0.9'}\n"


def queue_proposals(registry: Registry, scratch: Path) -> Registry:
    """Fill ``registry`` (with a work tree) so that production holds v2 (accuracy 0.95) under
    :data:`POLICY`, and two proposals are open: v3 (0.85, never in staging, so the policy fails
    it) for production, and v1 for archived (which the policy passes). The packages are
    written under ``scratch``. Returns ``registry``."""
    for i, acc in enumerate((0.8, 0.95, 0.85), start=1):
        registry.register("m", file_package(scratch / f"p{i}", {"model.bin": f"v{i}"}, metrics={"accuracy": acc}))
    registry.promote("m", 2, "staging")
    registry.promote("m", 2, "production")
    config = registry.path / "registry.yaml"
    config.write_text(config.read_text().rstrip() + POLICY)
    subprocess.run(["git", "-C", str(registry.path), "commit", "-qam", "policy"], check=True)
    registry.propose("m", 3, "production")
    registry.propose("m", 1, "archived")
    return registry
