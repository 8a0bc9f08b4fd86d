"""Rollback and time travel on a stage whose history was made with git on a bare remote:
a merge commit, a squash merge and a revert, each a first-parent state of the stage branch."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers.gitcli import git

from gitreg import uri as uris
from gitreg.errors import InvalidInputError, NotFoundError, PolicyError
from gitreg.registry import Registry
from gitreg.registry.rollback import held_versions
from gitreg.testing import file_package, run_cli

T0 = int(time.time()) + 1000  # after the gitreg-made first promotion


def at(when: int) -> dict[str, str]:
    """The environment that dates a commit (author and committer) at ``when``, in seconds."""
    return {"GIT_COMMITTER_DATE": f"{when} +0000", "GIT_AUTHOR_DATE": f"{when} +0000"}


def iso(seconds: int) -> str:
    return uris.format_instant(seconds)


@pytest.fixture
def server(tmp_path: Path) -> Path:
    """production: v1 (gitreg), then v2 (merge commit at T0+100), v3 (squash at T0+200), revert to v2 (T0+300)."""
    path = tmp_path / "server.git"
    reg = Registry.init(path, bare=True)
    for i, acc in enumerate((0.8, 0.92, 0.95), start=1):
        reg.register("m", file_package(tmp_path / f"p{i}", {"model.bin": f"v{i}"}, metrics={"accuracy": acc}))
    reg.promote("m", 1, "production")
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", f"file://{path}", str(work))
    reg.propose("m", 2, "production")
    git(work, "fetch", "--quiet", "origin")
    git(work, "checkout", "--quiet", "-B", "stages/production", "origin/stages/production")
    git(
        work,
        "merge",
        "--no-ff",
        "-m",
        "Merge pull request #1 from org/promote/production/m-v2",
        "origin/promote/production/m-v2",
        env=at(T0 + 100),
    )
    git(work, "push", "--quiet", "origin", "stages/production")
    reg.propose("m", 3, "production")
    git(work, "fetch", "--quiet", "origin")
    git(work, "merge", "--squash", "origin/promote/production/m-v3")
    git(work, "commit", "--quiet", "-m", "Promote m version 3 to Production (#2)", env=at(T0 + 200))
    git(work, "push", "--quiet", "origin", "stages/production")
    git(work, "revert", "--no-edit", "HEAD", env=at(T0 + 300))
    git(work, "push", "--quiet", "origin", "stages/production")
    reg.close()
    return path


def version_at(reg: Registry, when: int) -> int:
    return reg.resolve(uris.parse(f"models:/m/Production@{iso(when)}")).ref.version


def test_a_stage_uri_at_an_instant_resolves_to_what_the_stage_held_then(server: Path) -> None:
    reg = Registry.open(server)
    assert reg.resolve(uris.parse("models:/m/Production")).ref.version == 2
    assert version_at(reg, T0 + 50) == 1
    assert version_at(reg, T0 + 150) == 2  # the merge commit, not the proposal's own commit
    assert version_at(reg, T0 + 250) == 3  # the squash
    assert version_at(reg, T0 + 350) == 2  # the revert
    assert reg.resolve(uris.parse(f"models:/m@production@{iso(T0 + 250)}")).via == f"Production at {iso(T0 + 250)}"


def test_before_the_stage_existed_nothing_resolves(server: Path) -> None:
    with pytest.raises(NotFoundError, match="did not exist yet"):
        version_at(Registry.open(server), T0 - 10**6)


def test_a_past_state_is_verified_against_the_tag(server: Path, tmp_path: Path) -> None:
    """A stage state whose models/m/ differs from the tag it names is refused, past or present."""
    work = tmp_path / "tamper"
    git(tmp_path, "clone", "--quiet", f"file://{server}", str(work))
    git(work, "checkout", "--quiet", "-B", "stages/production", "origin/stages/production")
    (work / "models/m/model.bin").write_text("tampered")
    git(work, "commit", "--quiet", "-am", "tamper", env=at(T0 + 400))
    git(work, "revert", "--no-edit", "HEAD", env=at(T0 + 500))
    git(work, "push", "--quiet", "origin", "stages/production")
    reg = Registry.open(server)
    assert version_at(reg, T0 + 550) == 2
    with pytest.raises(Exception, match="differs from tag m/v2"):
        version_at(reg, T0 + 450)


def test_show_and_serve_take_as_of(server: Path) -> None:
    out = run_cli("show", "models:/m/Production", "--as-of", iso(T0 + 250), "--json", "-r", str(server))
    assert out.returncode == 0, out.stderr
    assert '"version": 3' in out.stdout
    out = run_cli("show", f"models:/m/Production@{iso(T0 + 150)}", "-r", str(server))
    assert out.returncode == 0 and "2  (resolved from Production at" in out.stdout
    out = run_cli("serve", "-m", "models:/m/3", "--as-of", iso(T0), "-r", str(server))
    assert out.returncode == 1 and "names no stage" in out.stderr


def test_the_first_parent_history_lists_each_state_of_the_stage(server: Path) -> None:
    reg = Registry.open(server)
    assert held_versions(reg.reader, "m", "production") == [2, 3, 2, 1]


def test_rollback_puts_back_the_version_held_before_as_one_commit(server: Path) -> None:
    reg = Registry.open(server)
    head = reg.store.ref("refs/heads/stages/production")
    before, mv = reg.rollback("m", "Production")
    assert (before, mv.version) == (2, 3)
    entry = reg.store.log("refs/heads/stages/production", max_count=1)[0]
    assert entry.parents == (head,) and "Gitreg-Version: 3" in entry.body


def test_rollback_to_a_version_is_held_to_the_policy(server: Path, tmp_path: Path) -> None:
    work = tmp_path / "policy"
    git(tmp_path, "clone", "--quiet", f"file://{server}", str(work))
    text = (
        work / "registry.yaml"
    ).read_text().rstrip() + "\npolicy:\n  production:\n    metrics: {accuracy: '>= 0.9'}\n"
    (work / "registry.yaml").write_text(text)
    git(work, "commit", "--quiet", "-am", "policy")
    git(work, "push", "--quiet", "origin", "main")
    reg = Registry.open(server)
    with pytest.raises(PolicyError, match=r"accuracy >= 0\.9; version 1 has 0\.8"):
        reg.rollback("m", "production", to=1)
    assert reg.stages_of("m") == {"production": 2}
    out = run_cli("rollback", "m", "production", "--to", "1", "--override-policy", "v2 leaks PII", "-r", str(server))
    assert out.returncode == 0, out.stderr
    assert "back from version 2 to version 1" in out.stdout
    assert "Gitreg-Policy-Override: v2 leaks PII" in reg.store.log("refs/heads/stages/production", max_count=1)[0].body


def test_rollback_to_a_version_the_stage_never_held_is_refused(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "r", bare=True)
    for i in (1, 2):
        reg.register("m", file_package(tmp_path / f"p{i}", {"model.bin": f"v{i}"}))
    reg.promote("m", 1, "staging")
    with pytest.raises(NotFoundError, match="nothing to roll back to"):
        reg.rollback("m", "staging")
    with pytest.raises(InvalidInputError, match="was never in Staging"):
        reg.rollback("m", "staging", to=2)


def test_rollback_propose_leaves_the_stage_alone(server: Path) -> None:
    out = run_cli("rollback", "m", "production", "--propose", "-r", str(server))
    assert out.returncode == 0, out.stderr
    assert "promote/production/m-v3" in out.stdout
    assert Registry.open(server).stages_of("m") == {"production": 2}
