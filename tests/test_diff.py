from __future__ import annotations

import json
from pathlib import Path

from gitreg.diff import diff_versions, parse_requirements
from gitreg.registry import Registry
from gitreg.signature import ColSpec, Signature
from gitreg.testing import file_package, run_cli


def _two_versions(registry: Registry, tmp_path: Path) -> None:
    v1 = file_package(
        tmp_path / "p1",
        {"model.bin": b"a" * 10, "old.txt": b"gone", "requirements.txt": "numpy==1.0\nscikit_learn==1.3\n"},
        metrics={"accuracy": 0.8, "loss": 0.5},
        params={"C": "1.0", "max_iter": "100"},
    )
    registry.register("m", v1, tags={"team": "a"})
    v2 = file_package(
        tmp_path / "p2",
        {"model.bin": b"b" * 25, "new.txt": b"here", "requirements.txt": "numpy==2.0\nscikit-learn==1.3\npandas\n"},
        metrics={"accuracy": 0.9, "f1": 0.7},
        params={"C": "0.5", "max_iter": "100"},
    )
    from dataclasses import replace

    registry.register("m", replace(v2, signature=Signature((ColSpec("double", "x"),))), tags={"team": "b"})


def test_diff_reports_metric_deltas_params_tags_requirements_and_artifacts(registry: Registry, tmp_path: Path) -> None:
    _two_versions(registry, tmp_path)
    d = diff_versions(registry, registry.version_ref("m", 1), registry.version_ref("m", 2))
    metrics = {m.key: (m.old, m.new, m.delta, m.status) for m in d.metrics}
    assert metrics["accuracy"][:2] == (0.8, 0.9) and abs(metrics["accuracy"][2] - 0.1) < 1e-9
    assert metrics["loss"] == (0.5, None, None, "removed")
    assert metrics["f1"] == (None, 0.7, None, "added")
    assert {p.key: p.status for p in d.params} == {"C": "changed", "max_iter": "same"}
    assert [(t.key, t.old, t.new) for t in d.tags] == [("team", "a", "b")]
    reqs = {r.key: (r.old, r.new, r.status) for r in d.requirements}
    assert reqs["numpy"] == ("numpy==1.0", "numpy==2.0", "changed")
    assert reqs["scikit-learn"][2] == "changed"  # same distribution, spelled differently
    assert reqs["pandas"] == (None, "pandas", "added")
    arts = {a.path: a for a in d.artifacts}
    assert arts["model.bin"].status == "changed" and arts["model.bin"].size_delta == 15
    assert arts["old.txt"].status == "removed" and arts["new.txt"].status == "added"
    assert d.signature_changed and d.signature[0] is None
    assert not d.flavor_changed and not d.identical
    as_json = json.loads(json.dumps(d.to_dict()))
    assert as_json["a"] == {"name": "m", "version": 1} and as_json["signature"]["changed"] is True


def test_diff_of_a_version_with_itself_is_identical(registry: Registry, tmp_path: Path) -> None:
    _two_versions(registry, tmp_path)
    ref = registry.version_ref("m", 2)
    assert diff_versions(registry, ref, ref).identical


def test_parse_requirements_skips_comments_and_options() -> None:
    text = "# pinned\n-r other.txt\nNumPy>=1 # why\n\nscikit_learn==1.3\n"
    assert parse_requirements(text) == {"numpy": "NumPy>=1", "scikit-learn": "scikit_learn==1.3"}


def test_cli_diff_by_name_and_by_uri(registry: Registry, tmp_path: Path) -> None:
    _two_versions(registry, tmp_path)
    registry.promote("m", 1, "staging")
    out = run_cli("diff", "m", "1", "2", "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    assert "m v1 -> m v2" in out.stdout and "accuracy" in out.stdout and "+0.1" in out.stdout
    assert "max_iter" not in out.stdout  # unchanged rows only with --all
    out = run_cli("diff", "models:/m/Staging", "models:/m/2", "--json", "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["a"]["version"] == 1 and data["b"]["version"] == 2


def test_cli_diff_refuses_bad_arguments_and_unknown_versions(registry: Registry, tmp_path: Path) -> None:
    _two_versions(registry, tmp_path)
    out = run_cli("diff", "m", "1", "-r", str(registry.path))
    assert out.returncode == 2 and "NAME V1 V2" in out.stderr
    out = run_cli("diff", "m", "1", "9", "-r", str(registry.path))
    assert out.returncode == 1 and "Version 9" in out.stderr and "Traceback" not in out.stderr
