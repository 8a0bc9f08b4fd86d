"""Sixteen processes writing to one registry at once: every call succeeds or
fails with a clear error, versions are distinct and gap-free, nothing is
lost, the repository stays sound and a work tree ends clean at the latest."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.invariants import check_registry, worktree_problems

from gitreg.check import check_registry as gitreg_check
from gitreg.registry import Package, Registry

WORKER = Path(__file__).parent / "helpers" / "registry_worker.py"
WRITERS = 16
pytestmark = pytest.mark.slow


def run_workers(argvs: list[list[str]], go: Path, timeout: float = 240) -> list[list[dict]]:
    """Start one process per argv, release them together, return each one's results."""
    procs = [
        subprocess.Popen([sys.executable, str(WORKER), *argv, str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for argv in argvs
    ]
    time.sleep(0.5)  # let every interpreter start before the gate opens
    go.touch()
    results = []
    deadline = time.monotonic() + timeout
    for p in procs:
        out, err = p.communicate(timeout=max(1, deadline - time.monotonic()))
        assert p.returncode == 0, f"worker crashed:\n{err.decode()}"
        results.append([r for r in map(json.loads, out.decode().splitlines()) if "ready" not in r])
    return results


@pytest.fixture(params=["bare", "worktree"])
def registry_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    reg = Registry.init(tmp_path / "reg", bare=request.param == "bare")
    reg.close()
    return reg.path


def assert_sound(path: Path) -> None:
    assert check_registry(path) == []
    reg = Registry.open(path)
    assert gitreg_check(reg.store, fetch=False) == []
    reg.close()
    if (path / ".git").is_dir():
        assert worktree_problems(path) == []


def test_concurrent_registrations_of_one_model_get_distinct_gap_free_versions(registry_path: Path, tmp_path: Path):
    per_worker = 2
    results = run_workers([[str(registry_path), "register", "shared", str(per_worker)]] * WRITERS, tmp_path / "go")
    calls = [r for rs in results for r in rs]
    assert len(calls) == WRITERS * per_worker
    failures = [c for c in calls if "ok" not in c]
    assert all(c["error"] == "ConflictError" and "Try again" in c["message"] for c in failures), failures
    versions = sorted(c["ok"] for c in calls if "ok" in c)
    assert versions == list(range(1, len(versions) + 1))
    assert len(versions) >= WRITERS  # giving up is allowed, but not for most
    assert all(not c.get("warnings") for c in calls if "ok" in c)
    reg = Registry.open(registry_path)
    assert reg.version_numbers("shared") == versions
    assert reg.latest_ref("shared").version == versions[-1]
    assert_sound(registry_path)
    if (registry_path / ".git").is_dir():
        manifest = (registry_path / "models" / "shared" / "gitreg.yaml").read_text()
        assert f"version: {versions[-1]}\n" in manifest


def test_concurrent_registrations_of_different_models_all_land(registry_path: Path, tmp_path: Path):
    argvs = [[str(registry_path), "register", f"model-{i}", "2"] for i in range(WRITERS)]
    results = run_workers(argvs, tmp_path / "go")
    for rs in results:
        assert [r.get("ok") for r in rs] == [1, 2], rs
    reg = Registry.open(registry_path)
    assert reg.model_names() == sorted(f"model-{i}" for i in range(WRITERS))
    assert_sound(registry_path)
    if (registry_path / ".git").is_dir():
        assert sorted(p.name for p in (registry_path / "models").iterdir() if p.is_dir()) == reg.model_names()


def test_concurrent_promotions_to_one_stage_leave_one_winner_and_a_full_audit_trail(
    registry_path: Path, tmp_path: Path
):
    reg = Registry.open(registry_path)
    source = tmp_path / "src"
    source.mkdir()
    for v in range(1, WRITERS + 1):
        (source / "model.pkl").write_bytes(f"v{v}".encode())
        reg.register("m", Package(source, ("model.pkl",), "python_function"))
    argvs = [[str(registry_path), "promote", "m", "Production", str(v)] for v in range(1, WRITERS + 1)]
    results = run_workers(argvs, tmp_path / "go")
    calls = [r for rs in results for r in rs]
    assert all("ok" in c for c in calls), calls
    reg = Registry.open(registry_path)
    held = reg.stages_of("m")["production"]
    moves = [m for m in reg.stage_history("m", ["production"])]
    assert len(moves) == WRITERS  # every promotion is one commit on the stage branch
    assert sorted(m.version for m in moves) == list(range(1, WRITERS + 1))
    newest = reg.store.log("refs/heads/stages/production", max_count=1)[0]
    assert newest.subject == f"Promote m version {held} to Production"
    assert_sound(registry_path)
