"""The pre-receive hook on a real bare repository, pushed to with real git over file:// and smart HTTP."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.git_http import serve_git_http
from helpers.gitcli import git, refs, run_git

from gitreg.registry import Registry
from gitreg.testing import file_package, run_cli

POLICY = (
    "format: 1\nstages: [staging, production, archived]\npolicy:\n"
    "  production:\n    requires_stage: staging\n    metrics: {accuracy: '>= 0.9'}\n"
)


def make_server(tmp_path: Path) -> Path:
    """A bare registry: m v1 (accuracy 0.8) in staging, m v2 (accuracy 0.95), the policy on main, the hook."""
    server = tmp_path / "server.git"
    reg = Registry.init(server, bare=True)
    reg.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}, metrics={"accuracy": 0.8}))
    reg.register("m", file_package(tmp_path / "p2", {"model.bin": b"two"}, metrics={"accuracy": 0.95}))
    reg.promote("m", 1, "staging")
    reg.close()
    setup = tmp_path / "setup"
    git(tmp_path, "clone", "--quiet", f"file://{server}", str(setup))
    (setup / "registry.yaml").write_text(POLICY)
    git(setup, "commit", "--quiet", "-am", "Set promotion policy")
    git(setup, "push", "--quiet", "origin", "main")
    out = run_cli("hook", "install", "--pre-receive", str(server))
    assert out.returncode == 0, out.stderr
    return server


def clone(tmp_path: Path, url: str, name: str) -> Path:
    work = tmp_path / name
    git(tmp_path, "clone", "--quiet", url, str(work))
    return work


def pushes(work: Path, *refspecs: str, force: bool = False) -> subprocess.CompletedProcess[str]:
    return run_git(work, "push", *(["--force"] if force else []), "origin", *refspecs)


def test_a_stage_move_against_the_policy_is_refused_with_the_findings(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    work = clone(tmp_path, f"file://{server}", "work")
    before = refs(server)
    # production := staging, which holds m v1 (accuracy 0.8): the metric fails
    out = pushes(work, "origin/stages/staging:refs/heads/stages/production")
    assert out.returncode != 0
    assert "remote: stages/production:models/m/gitreg.yaml: policy-metric: m v1" in out.stderr
    assert "push refused" in out.stderr and "pre-receive hook declined" in out.stderr
    assert refs(server) == before


def test_a_stage_move_the_policy_allows_lands(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    reg = Registry.open(server)
    reg.promote("m", 2, "staging")
    reg.close()
    work = clone(tmp_path, f"file://{server}", "work")
    out = pushes(work, "origin/stages/staging:refs/heads/stages/production")
    assert out.returncode == 0, out.stderr
    assert Registry.open(server).stages_of("m") == {"staging": 2, "production": 2}


def test_moving_or_deleting_a_version_tag_is_refused(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    work = clone(tmp_path, f"file://{server}", "work")
    git(work, "tag", "-f", "-a", "-m", "forged", "m/v1", "m/v2^{}")
    out = pushes(work, "refs/tags/m/v1", force=True)
    assert out.returncode != 0 and "push-tag: m v1: the push moves tag m/v1" in out.stderr
    out = pushes(work, ":refs/tags/m/v1")
    assert out.returncode != 0 and "push-tag: m v1: the push deletes tag m/v1" in out.stderr
    assert git(server, "rev-parse", "m/v1^{}") != git(server, "rev-parse", "m/v2^{}")


def test_rewriting_main_is_refused(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    work = clone(tmp_path, f"file://{server}", "work")
    git(work, "reset", "--quiet", "--hard", "HEAD~1")
    out = pushes(work, "main", force=True)
    assert out.returncode != 0 and "push-main" in out.stderr and "rewrites main's history" in out.stderr


def test_a_registration_pushed_from_a_clone_lands(tmp_path: Path) -> None:
    """New objects arrive in git's quarantine: the hook must see them before they are migrated."""
    server = make_server(tmp_path)
    out = run_cli("clone", f"file://{server}", str(tmp_path / "clone"))
    assert out.returncode == 0, out.stderr
    reg = Registry.open(tmp_path / "clone")
    reg.register("m", file_package(tmp_path / "p3", {"model.bin": b"three"}, metrics={"accuracy": 0.97}))
    reg.close()
    out = run_cli("push", "-r", str(tmp_path / "clone"))
    assert out.returncode == 0, out.stderr
    assert run_git(server, "rev-parse", "--verify", "m/v3").returncode == 0


def test_a_local_override_is_refused_by_the_server_unless_it_allows_overrides(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    out = run_cli("clone", f"file://{server}", str(tmp_path / "clone"))
    assert out.returncode == 0, out.stderr
    out = run_cli("promote", "m", "1", "production", "--override-policy", "incident 42", "-r", str(tmp_path / "clone"))
    assert out.returncode == 0, out.stderr
    assert "overridden (incident 42)" in out.stderr
    message = git(tmp_path / "clone", "log", "-1", "--format=%B", "stages/production")
    assert "Gitreg-Policy-Override: incident 42" in message
    out = run_cli("push", "-r", str(tmp_path / "clone"))
    assert out.returncode != 0 and "policy-metric: m v1" in out.stderr
    assert run_git(server, "rev-parse", "--verify", "stages/production").returncode != 0
    out = run_cli("hook", "install", "--pre-receive", "--allow-overrides", str(server))
    assert out.returncode == 0, out.stderr
    out = run_cli("push", "-r", str(tmp_path / "clone"))
    assert out.returncode == 0, out.stderr
    assert Registry.open(server).stages_of("m")["production"] == 1


def test_installing_keeps_a_hook_gitreg_did_not_write(tmp_path: Path) -> None:
    bare = tmp_path / "other.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    (bare / "hooks" / "pre-receive").write_text("#!/bin/sh\nexit 0\n")
    out = run_cli("hook", "install", "--pre-receive", str(bare))
    assert out.returncode == 1 and "was not installed by gitreg" in out.stderr
    assert (bare / "hooks" / "pre-receive").read_text() == "#!/bin/sh\nexit 0\n"


# -- smart HTTP: git http-backend behind a tiny CGI wrapper -----------------------------------


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "srv"
    root.mkdir()
    with serve_git_http(root) as base:
        yield root, base


def test_the_hook_refuses_and_accepts_over_smart_http(tmp_path: Path, http_root: tuple[Path, str]) -> None:
    root, base = http_root
    server = make_server(tmp_path)
    served = root / "registry.git"
    server.rename(served)
    git(served, "config", "http.receivepack", "true")
    work = clone(tmp_path, f"{base}/registry.git", "work")
    out = pushes(work, "origin/stages/staging:refs/heads/stages/production")
    assert out.returncode != 0
    assert "remote: stages/production:models/m/gitreg.yaml: policy-metric: m v1" in out.stderr
    reg = Registry.open(served)
    reg.promote("m", 2, "staging")
    reg.close()
    git(work, "fetch", "--quiet", "origin")
    out = pushes(work, "origin/stages/staging:refs/heads/stages/production")
    assert out.returncode == 0, out.stderr
    assert git(served, "rev-parse", "stages/production") == git(served, "rev-parse", "stages/staging")
