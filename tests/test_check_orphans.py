"""gitreg check reports states a crash, an older gitreg or a hand edit leaves:
orphan version directories, model names today's rules refuse, stage entries
readers ignore, and signed promotions not bound to what the stage holds.
Each state is built with git plumbing on a real registry."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers.gitcli import git

from gitreg.check import Finding, check_registry
from gitreg.registry import Registry
from gitreg.testing import file_package, run_cli


def rules(findings: list[Finding]) -> set[tuple[str | None, int | None, str]]:
    return {(f.model, f.version, f.rule) for f in findings}


def main_commit(repo: Path, edit: str, message: str) -> None:
    """Commit on main a tree made by ``edit``: lines ``<mode> <type> <oid>\\t<name>`` replacing
    ``models/``'s listing (as ``git mktree`` reads them); the work tree is left alone."""
    models = git(repo, "mktree", input=edit).strip()
    root = git(repo, "ls-tree", "main").strip()
    listing = "\n".join(line for line in root.splitlines() if not line.endswith("\tmodels"))
    tree = git(repo, "mktree", input=f"{listing}\n040000 tree {models}\tmodels\n").strip()
    commit = git(repo, "commit-tree", "-p", "main", tree, input=message).strip()
    git(repo, "update-ref", "refs/heads/main", commit)


def models_listing(repo: Path, rev: str = "main") -> list[str]:
    return git(repo, "ls-tree", f"{rev}:models").strip().splitlines()


@pytest.fixture
def two(registry: Registry, tmp_path: Path) -> Registry:
    """a v1 in staging, a v2 in production, b v1 in production: a sound registry."""
    registry.register("a", file_package(tmp_path / "a1", {"model.bin": b"a one"}))
    registry.register("a", file_package(tmp_path / "a2", {"model.bin": b"a two"}))
    registry.register("b", file_package(tmp_path / "b1", {"model.bin": b"b one"}))
    registry.promote("a", 1, "staging")
    registry.promote("a", 2, "production")
    registry.promote("b", 1, "production")
    return registry


def test_a_sound_registry_has_none_of_these_findings(two: Registry) -> None:
    assert check_registry(two.store) == []


def test_a_version_directory_without_its_record_is_an_orphan(two: Registry) -> None:
    kept = [line for line in models_listing(two.path) if not line.endswith("\ta.yaml")]
    main_commit(two.path, "\n".join(kept) + "\n", "Lose a's record")
    found = check_registry(two.store)
    assert ("a", None, "orphan-version") in rules(found)
    [orphan] = [f for f in found if f.rule == "orphan-version"]
    assert orphan.file == "main:models/a/" and "no record models/a.yaml" in orphan.message
    out = run_cli("check", "-r", str(two.path))
    assert out.returncode == 4 and "main:models/a/: orphan-version: a:" in out.stdout


def test_a_model_named_like_a_record_is_reported_with_the_orphan_it_made(two: Registry) -> None:
    """What an old gitreg did for a model named 'a.yaml': its version directory replaced a's record."""
    b_tree = git(two.path, "rev-parse", "main:models/b").strip()
    kept = [line for line in models_listing(two.path) if not line.endswith("\ta.yaml")]
    main_commit(two.path, "\n".join([*kept, f"040000 tree {b_tree}\ta.yaml"]) + "\n", "Register a.yaml version 1")
    git(two.path, "tag", "-a", "-m", "Register a.yaml version 1", "a.yaml/v1", "main")
    found = rules(check_registry(two.store))
    assert {("a", None, "orphan-version"), ("a.yaml", None, "model-name")} <= found
    [named] = [f for f in check_registry(two.store) if f.rule == "model-name"]
    assert "may not end with '.yaml'" in named.message and named.file == "main:models/a.yaml/"


def test_a_stage_entry_for_a_deleted_version_is_stale_and_demote_clears_it(two: Registry) -> None:
    before = git(two.path, "rev-parse", "stages/production").strip()
    two.delete_version("a", 2)
    git(two.path, "update-ref", "refs/heads/stages/production", before)  # the crash: main moved, the stage did not
    found = check_registry(two.store)
    assert rules(found) == {("a", 2, "stage-stale")}
    assert "version 2 was deleted" in found[0].message and "gitreg demote a production" in found[0].message
    two.demote("a", "production")
    assert check_registry(two.store) == []


def test_a_stage_entry_for_a_model_without_a_record_is_stale(two: Registry) -> None:
    before = {s: git(two.path, "rev-parse", f"stages/{s}").strip() for s in ("staging", "production")}
    two.delete_model("a")
    for stage, head in before.items():
        git(two.path, "update-ref", f"refs/heads/stages/{stage}", head)
    found = check_registry(two.store)
    assert rules(found) == {("a", 1, "stage-stale"), ("a", 2, "stage-stale")}
    assert all("has no record on main" in f.message and "git rm -r models/a" in f.message for f in found)


def test_a_stage_entry_for_a_version_beyond_next_version_is_stale(two: Registry, tmp_path: Path) -> None:
    """A registration whose tag landed but whose main commit did not, held by a stage made by hand."""
    main = git(two.path, "rev-parse", "main").strip()
    two.register("b", file_package(tmp_path / "b2", {"model.bin": b"b two"}))
    two.promote("b", 2, "staging")
    git(two.path, "update-ref", "refs/heads/main", main)
    found = check_registry(two.store)
    assert rules(found) == {("b", 2, "stage-stale")}
    assert "not registered on main (the next version is 2)" in found[0].message


@pytest.fixture
def signing(two: Registry, tmp_path: Path) -> Registry:
    key = tmp_path / "signing_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "t", "-f", str(key)], check=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"author@example.com {(tmp_path / 'signing_key.pub').read_text().strip()}\n")
    git(two.path, "config", "gpg.format", "ssh")
    git(two.path, "config", "user.signingkey", str(key))
    git(two.path, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    policy = "format: 1\nstages: [staging, production, archived]\npolicy:\n  production:\n    require_signed: true\n"
    (two.path / "registry.yaml").write_text(policy)
    git(two.path, "commit", "--quiet", "-am", "Require signed production")
    two.store.sign_commits = True
    two.promote("a", 1, "staging", exclusive_fixed=False)
    two.promote("a", 2, "production")
    two.promote("b", 1, "production")
    return two


def test_a_signed_promotion_bound_to_its_stage_and_version_passes(signing: Registry) -> None:
    assert check_registry(signing.store) == []


def test_production_pointed_at_a_signed_staging_promotion_is_a_binding_finding(signing: Registry) -> None:
    staging = git(signing.path, "rev-parse", "stages/staging").strip()
    git(signing.path, "update-ref", "refs/heads/stages/production", staging)
    found = check_registry(signing.store)
    assert rules(found) == {("a", 1, "policy-signature-binding")}
    assert "authorises a version 1 in staging" in found[0].message
    assert "holds a version 1 in production" in found[0].message


def test_every_check_rule_is_documented_in_policy_md() -> None:
    from gitreg.check import RULES

    text = (Path(__file__).parent.parent / "docs" / "policy.md").read_text()
    assert [r for r in RULES if f"`{r}`" not in text] == []
