"""Processes writing to one registry at once (started together through a GO
file) leave it settled: no stage holds a deleted version, no version number
names two contents, every reported success is visible, and ``gitreg check``
is clean; the same through a shared bare remote opened by ``file://`` URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.invariants import check_registry, worktree_problems

from gitreg.check import check_registry as gitreg_check
from gitreg.registry import Package, Registry

WORKER = Path(__file__).parent.parent / "helpers" / "registry_worker.py"
pytestmark = pytest.mark.slow


def start(argvs: list[list[str]], env: dict[str, str] | None = None, envs: list[dict[str, str]] | None = None):
    procs = []
    for i, argv in enumerate(argvs):
        penv = {**os.environ, **(env or {}), **(envs[i] if envs else {})}
        procs.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=penv
            )
        )
    for p in procs:  # every interpreter has the registry open before the gate opens
        assert p.stdout is not None
        assert json.loads(p.stdout.readline()) == {"ready": True}, p.stderr.read() if p.stderr else ""
    return procs


def finish(procs: list[subprocess.Popen], timeout: float = 120) -> list[list[dict]]:
    deadline = time.monotonic() + timeout
    results = []
    for p in procs:
        out, err = p.communicate(timeout=max(1, deadline - time.monotonic()))
        assert p.returncode == 0, f"worker crashed:\n{err.decode()}"
        results.append([json.loads(line) for line in out.decode().splitlines()])
    return results


def run_together(argvs: list[list[str]], go: Path, **kw) -> list[list[dict]]:
    procs = start([[*argv, str(go)] for argv in argvs], **kw)
    go.touch()
    return finish(procs)


@pytest.fixture(params=["bare", "worktree"])
def registry_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    reg = Registry.init(tmp_path / "reg", bare=request.param == "bare")
    reg.close()
    return reg.path


def assert_settled(path: Path) -> None:
    assert check_registry(path, settled=True) == []
    reg = Registry.open(path)
    # a rename that lost a race moves its prepared stage branches back: nothing is left to report
    assert gitreg_check(reg.store, fetch=False) == []
    reg.close()
    if (path / ".git").is_dir():
        assert worktree_problems(path) == []


def tag_contents(path: Path) -> dict[tuple[str, int], str]:
    """(model, version) -> the model.pkl every version tag holds, read with plain git."""
    out = {}
    refs = subprocess.run(
        ["git", "-C", str(path), "for-each-ref", "--format=%(refname)", "refs/tags/"], capture_output=True, text=True
    ).stdout.split()
    for ref in refs:
        model, _, v = ref[len("refs/tags/") :].rpartition("/v")
        blob = subprocess.run(
            ["git", "-C", str(path), "cat-file", "blob", f"{ref}^{{commit}}:models/{model}/model.pkl"],
            capture_output=True,
            text=True,
        )
        out[(model, int(v))] = blob.stdout
    return out


def check_reports_against_tags(path: Path, calls: list[dict], model: str) -> None:
    """No number reused: each reported registration is the one content of its tag, a renamed
    version keeps its content under the new name, and what reported success is visible."""
    contents = tag_contents(path)
    registered = [(c["model"], c["ok"], c["content"]) for c in calls if c["op"] == "register" and "ok" in c]
    assert len({(m, v) for m, v, _ in registered}) == len(registered), "a version number was handed out twice"
    for m, v, content in registered:
        assert contents[(m, v)] == content
    for c in calls:
        if c["op"] == "rename" and "ok" in c:
            for v in c["versions"]:
                assert contents[(c["ok"], v)] == contents[(c["model"], v)]
    reg = Registry.open(path)
    names = reg.model_names()
    deleted = {c["ok"] for c in calls if c["op"] == "delete" and "ok" in c}
    for name in names:
        live = reg.version_numbers(name)
        if name == model:
            assert not set(live) & deleted
        reg.get_model(name)
        for stage, v in reg.stages_of(name).items():
            assert v in live, (name, stage, v)
    reg.close()


def test_mixed_writers_on_one_model_leave_a_settled_registry(registry_path: Path, tmp_path: Path) -> None:
    reg = Registry.open(registry_path)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / "model.pkl").write_bytes(f"seed {i}".encode())
        (src / "MLmodel").write_text("flavors:\n  python_function: {}\n")
        reg.register("m", Package(src, ("MLmodel", "model.pkl"), "python_function"))
    reg.close()
    workers, calls_each = 6, 10
    results = run_together(
        [[str(registry_path), "mixed", "m", str(seed), str(calls_each)] for seed in range(workers)], tmp_path / "go"
    )
    calls = [c for rs in results for c in rs if "ready" not in c]
    assert len(calls) == workers * calls_each
    errors = [c for c in calls if "error" in c]
    assert all(c["error"] in ("ConflictError", "NotFoundError", "AlreadyExistsError") for c in errors), errors
    assert all(not c.get("warnings") for c in calls if "ok" in c)
    assert len([c for c in calls if "ok" in c]) >= len(calls) // 2
    assert_settled(registry_path)
    check_reports_against_tags(registry_path, calls, "m")
    print(f"{workers} processes, {len(calls)} calls, {len(errors)} refused")


@pytest.mark.parametrize("layout", ["bare", "worktree"])
def test_delete_racing_promotion_never_leaves_a_deleted_version_in_a_stage(tmp_path: Path, layout: str) -> None:
    rounds = 30
    reg = Registry.init(tmp_path / "reg", bare=layout == "bare")
    src = tmp_path / "src"
    src.mkdir()
    from gitreg.registry import NewVersion

    batch = []
    for r in range(rounds):
        for v in (1, 2):
            d = src / f"{r}-{v}"
            d.mkdir()
            (d / "model.pkl").write_bytes(f"{r} {v}".encode())
            batch.append(NewVersion(f"race-{r}", Package(d, ("model.pkl",), "python_function")))
    reg.register_many(batch)
    go = tmp_path / "go-"
    procs = start(
        [
            [str(reg.path), "rounds", str(rounds), str(go), "delete", "race-{i}", "2"],
            [str(reg.path), "rounds", str(rounds), str(go), "promote", "race-{i}", "Production", "2"],
        ]
    )
    outcomes: dict[str, int] = {}
    for r in range(rounds):
        Path(f"{go}{r}").touch()
        lines = [json.loads(p.stdout.readline()) for p in procs]  # type: ignore[union-attr]
        assert [x["round"] for x in lines] == [r, r]
        deleted, promoted = lines
        assert "ok" in deleted, deleted
        assert "ok" in promoted or promoted["error"] == "NotFoundError", promoted
        outcomes["promoted first" if "ok" in promoted else "deleted first"] = (
            outcomes.get("promoted first" if "ok" in promoted else "deleted first", 0) + 1
        )
        name = f"race-{r}"
        fresh = Registry.open(reg.path)
        model = fresh.get_model(name)
        assert model.aliases == {} and fresh.stages_of(name) == {}
        assert fresh.store.tree_oid(f"refs/heads/stages/production:models/{name}") is None
        fresh.close()
    finish(procs)
    assert_settled(reg.path)
    print(f"{layout}: {rounds} rounds, {outcomes}")


def test_writers_through_a_shared_bare_remote_by_url(tmp_path: Path) -> None:
    origin = Registry.init(tmp_path / "origin.git", bare=True)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / "model.pkl").write_bytes(f"seed {i}".encode())
        origin.register("m", Package(src, ("model.pkl",), "python_function"))
    origin.close()
    url = f"file://{origin.path}"
    argvs = [
        [url, "register", "m", "3"],
        [url, "register", "m", "3"],
        [url, "promote", "m", "Production", "1,2,3"],
        [url, "promote", "m", "Staging", "3,2,1"],
    ]
    envs = [{"GITREG_CACHE_DIR": str(tmp_path / f"cache-{i}")} for i in range(len(argvs))]
    results = run_together(argvs, tmp_path / "go", envs=envs)
    calls = [c for rs in results for c in rs]
    errors = [c for c in calls if "error" in c]
    assert all(c["error"] == "ConflictError" for c in errors), errors
    registered = sorted(c["ok"] for c in calls if c["op"] == "register" and "ok" in c)
    assert len(registered) == len(set(registered)) and min(registered, default=4) >= 4
    assert_settled(origin.path)
    check_reports_against_tags(origin.path, calls, "m")
    reg = Registry.open(origin.path)
    assert set(registered) <= set(reg.version_numbers("m"))
    assert set(reg.stages_of("m")) == {"production", "staging"}
    print(f"remote: {len(argvs)} processes, {len(calls)} calls, {len(errors)} refused")
