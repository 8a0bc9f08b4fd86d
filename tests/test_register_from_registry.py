"""Registering a version from another registry URI copies its artifacts, and only those."""

from __future__ import annotations

from pathlib import Path

import gitreg
from gitreg.registry import Registry


def test_registering_from_a_models_uri_copies_exactly_the_versions_artifacts(
    registry: Registry, saved_model: Path
) -> None:
    first = gitreg.register_model(str(saved_model), "Source")
    copy = gitreg.register_model(f"models:/Source/{first.version}", "Copy")
    source_files = {a.path for a in registry.version_ref("Source", first.version).manifest.artifacts}
    copied_files = {a.path for a in registry.version_ref("Copy", copy.version).manifest.artifacts}
    assert copied_files == source_files
    again = gitreg.register_model(f"models:/Source/{first.version}", "Copy")  # the cache entry is warm now
    assert {a.path for a in registry.version_ref("Copy", again.version).manifest.artifacts} == source_files
