"""gitreg check on real repositories, tampered with the way a user would: with git."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers.gitcli import git, refs

from gitreg.check import Finding, check_registry, stage_of_refname
from gitreg.registry import Registry
from gitreg.testing import file_package, run_cli


def rules(findings: list[Finding]) -> set[tuple[str | None, int | None, str]]:
    return {(f.model, f.version, f.rule) for f in findings}


def build(registry: Registry, tmp_path: Path) -> None:
    """m v1 (accuracy 0.8) in staging; m v2 (accuracy 0.95) in production."""
    registry.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}, metrics={"accuracy": 0.8}))
    registry.register("m", file_package(tmp_path / "p2", {"model.bin": b"two"}, metrics={"accuracy": 0.95}))
    registry.promote("m", 1, "staging")
    registry.promote("m", 2, "production")


def hand_commit(repo: Path, tmp_path: Path, branch: str, files: dict[str, str | None], message: str) -> None:
    """Commit on ``branch`` of ``repo`` as a user editing files would: in the
    registry's own work tree for main, else in a clone that pushes it back."""
    work = repo
    if branch != "main":
        work = tmp_path / f"hand-{branch.replace('/', '-')}"
        if not work.exists():
            git(tmp_path, "clone", "--quiet", f"file://{repo}", str(work))
        git(work, "fetch", "--quiet", "origin")
        git(work, "checkout", "--quiet", "-B", branch, f"origin/{branch}")
    for rel, text in files.items():
        path = work / rel
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "--quiet", "-m", message)
    if work != repo:
        git(work, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")


def set_policy(registry: Registry, tmp_path: Path, policy: str) -> None:
    text = "format: 1\nstages: [staging, production, archived]\npolicy:\n" + policy
    hand_commit(registry.path, tmp_path, "main", {"registry.yaml": text}, "Set promotion policy")


def test_a_consistent_registry_passes(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    assert check_registry(registry.store) == []
    out = run_cli("check", "-r", str(registry.path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all manifests, artifacts, tags, stages and policies hold" in out.stdout


def test_moved_tag_is_reported_and_check_changes_nothing(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    git(registry.path, "tag", "-f", "-a", "-m", "moved", "m/v1", "m/v2^{}")
    before = refs(registry.path)
    out = run_cli("check", "-r", str(registry.path))
    assert out.returncode == 4
    lines = out.stdout.splitlines()
    assert any(line.startswith("m/v1: tag-moved: m v1:") for line in lines), out.stdout
    assert refs(registry.path) == before


def test_tag_moved_to_a_commit_off_main_is_reported_for_versions_without_a_recorded_tree(
    registry: Registry, tmp_path: Path
) -> None:
    build(registry, tmp_path)
    # A registry written before records carried trees: drop them from the record.
    record = (registry.path / "models/m.yaml").read_text()
    old_style = record.split("registered:")[0]
    hand_commit(registry.path, tmp_path, "main", {"models/m.yaml": old_style}, "old-style record")
    # Forge a version 1 whose manifest is right but whose commit is off main.
    forged = git(registry.path, "commit-tree", "m/v1^{tree}", "-m", "forged").strip()
    git(registry.path, "tag", "-f", "-a", "-m", "forged", "m/v1", forged)
    found = check_registry(registry.store)
    assert ("m", 1, "tag-moved") in rules(found)
    assert all(f.rule == "tag-moved" for f in found)


def test_hand_edited_artifact_on_a_stage_branch_is_reported(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    hand_commit(registry.path, tmp_path, "stages/production", {"models/m/model.bin": "evil"}, "hotfix")
    found = check_registry(registry.store)
    assert rules(found) == {("m", 2, "stage-subtree")}
    assert "model.bin changed" in found[0].message and found[0].file == "stages/production:models/m/"


def test_tampered_artifact_at_a_retagged_version_reports_artifact_and_tag_moved(
    registry: Registry, tmp_path: Path
) -> None:
    build(registry, tmp_path)
    hand_commit(registry.path, tmp_path, "main", {"models/m/model.bin": "evil"}, "edit")
    git(registry.path, "tag", "-f", "-a", "-m", "moved", "m/v2", "main")
    found = rules(check_registry(registry.store))
    assert {("m", 2, "artifact"), ("m", 2, "tag-moved"), ("m", 2, "stage-subtree")} <= found


def test_schema_errors_are_findings_and_checking_keeps_going(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    hand_commit(
        registry.path,
        tmp_path,
        "stages/staging",
        {"models/m/gitreg.yaml": "format: 1\nname: m\n"},
        "broken manifest",
    )
    hand_commit(registry.path, tmp_path, "main", {"models/other.yaml": "name: other\n"}, "broken record")
    hand_commit(registry.path, tmp_path, "stages/production", {"models/m/model.bin": "evil"}, "hotfix")
    found = check_registry(registry.store)
    files = {(f.file, f.rule) for f in found}
    assert ("stages/staging:models/m/gitreg.yaml", "schema") in files
    assert ("main:models/other.yaml", "schema") in files
    assert ("stages/production:models/m/", "stage-subtree") in files
    out = run_cli("check", "--json", "-r", str(registry.path))
    assert out.returncode == 4
    assert {(d["file"], d["rule"]) for d in json.loads(out.stdout)} == files


def test_metric_threshold_and_required_stage(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    set_policy(registry, tmp_path, "  production:\n    requires_stage: staging\n    metrics: {accuracy: '>= 0.99'}\n")
    found = check_registry(registry.store)
    assert rules(found) == {("m", 2, "policy-requires-stage"), ("m", 2, "policy-metric")}
    metric = next(f for f in found if f.rule == "policy-metric")
    assert "accuracy >= 0.99" in metric.message and "0.95" in metric.message


def test_required_stage_is_satisfied_by_the_staging_branch_history(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    set_policy(registry, tmp_path, "  production:\n    requires_stage: staging\n    metrics: {accuracy: '>= 0.9'}\n")
    registry.promote("m", 2, "staging")
    registry.promote("m", 1, "staging")  # v2 has left staging again: having been there is enough
    registry.promote("m", 2, "production")
    assert check_registry(registry.store) == []


def _candidate(registry: Registry, tmp_path: Path, version: int, extra: dict[str, str] | None = None) -> str:
    """A promotion branch promote/production/m-vN as a pull request would carry it."""
    work = tmp_path / "pr"
    if not work.exists():
        git(tmp_path, "clone", "--quiet", f"file://{registry.path}", str(work))
    git(work, "fetch", "--quiet", "--tags", "origin")
    branch = f"promote/production/m-v{version}"
    git(work, "checkout", "--quiet", "-B", branch, "origin/stages/production")
    git(work, "rm", "--quiet", "-r", "models/m")
    git(work, "read-tree", "--prefix=models/m/", f"m/v{version}:models/m")
    git(work, "checkout", "--quiet", "--", ".")
    for rel, text in (extra or {}).items():
        (work / rel).write_text(text)
        git(work, "add", rel)
    git(work, "commit", "--quiet", "-m", f"Promote m version {version} to Production")
    git(work, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
    return branch


def test_policy_is_read_from_the_trusted_base_not_the_ref_under_review(registry: Registry, tmp_path: Path) -> None:
    registry.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}, metrics={"accuracy": 0.8}))
    registry.register("m", file_package(tmp_path / "p2", {"model.bin": b"two"}, metrics={"accuracy": 0.5}))
    registry.promote("m", 1, "production")
    set_policy(registry, tmp_path, "  production:\n    metrics: {accuracy: '>= 0.7'}\n")
    relaxed = "format: 1\nstages: [staging, production]\npolicy: {}\n"
    branch = _candidate(registry, tmp_path, 2, extra={"registry.yaml": relaxed})
    before = refs(registry.path)
    out = run_cli("check", "--ref", branch, "--base", "stages/production", "-r", str(registry.path))
    assert out.returncode == 4, out.stdout + out.stderr
    assert "policy-metric: m v2: production requires accuracy >= 0.7; version 2 has 0.5" in out.stdout
    assert refs(registry.path) == before
    # the same review of a version that meets the policy passes
    registry.register("m", file_package(tmp_path / "p3", {"model.bin": b"three"}, metrics={"accuracy": 0.9}))
    branch = _candidate(registry, tmp_path, 3)
    out = run_cli("check", "--ref", branch, "--base", "stages/production", "-r", str(registry.path))
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_ref_whose_stage_cannot_be_told_is_a_finding(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    git(registry.path, "branch", "somebranch", "stages/production")
    found = check_registry(registry.store, ref="somebranch")
    assert [f.rule for f in found] == ["stage-unknown"]


def test_unknown_base_is_a_one_line_error(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    out = run_cli("check", "--base", "origin/stages/nope", "-r", str(registry.path))
    assert out.returncode == 1 and "origin/stages/nope" in out.stderr and "fetch-depth: 0" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("name", "stage"),
    [
        ("origin/stages/production", "production"),
        ("refs/heads/stages/Staging", "staging"),
        ("promote/production/iris-v3", "production"),
        ("main", None),
    ],
)
def test_stage_of_refname(name: str, stage: str | None) -> None:
    assert stage_of_refname(name) == stage


# -- partial checkouts ---------------------------------------------------------------


def test_shallow_tagless_clone_fetches_what_it_needs_and_passes(
    registry: Registry, tmp_path: Path, env: dict[str, Any]
) -> None:
    build(registry, tmp_path)
    clone = tmp_path / "ci"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--no-tags", f"file://{registry.path}", str(clone))
    assert git(clone, "tag") == ""
    out = run_cli("check", cwd=clone)
    assert out.returncode == 0, out.stdout + out.stderr
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() == "false"
    assert "m/v2" in git(clone, "tag")


def test_shallow_clone_catches_a_moved_tag_after_fetching(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    git(registry.path, "tag", "-f", "-a", "-m", "moved", "m/v1", "m/v2^{}")
    clone = tmp_path / "ci"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--no-tags", f"file://{registry.path}", str(clone))
    out = run_cli("check", cwd=clone)
    assert out.returncode == 4 and "tag-moved: m v1" in out.stdout


def test_shallow_clone_without_a_remote_fails_saying_what_to_change(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    clone = tmp_path / "ci"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--no-tags", f"file://{registry.path}", str(clone))
    git(clone, "remote", "remove", "origin")
    before = refs(clone)
    out = run_cli("check", cwd=clone)
    assert out.returncode == 4
    assert "checkout" in out.stdout and "fetch-depth: 0" in out.stdout
    assert "tag-missing: m v1" in out.stdout and "tag-missing: m v2" in out.stdout
    assert refs(clone) == before


def test_no_fetch_reports_instead_of_fetching(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    clone = tmp_path / "ci"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--no-tags", f"file://{registry.path}", str(clone))
    before = refs(clone)
    out = run_cli("check", "--no-fetch", cwd=clone)
    assert out.returncode == 4 and "fetch-depth: 0" in out.stdout
    assert refs(clone) == before


# -- signatures ----------------------------------------------------------------------


@pytest.fixture
def ssh_signing(registry: Registry, tmp_path: Path) -> Path:
    """An SSH signing key configured in the registry and trusted by its allowed-signers file."""
    key = tmp_path / "signing_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tester", "-f", str(key)], check=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"author@example.com {(tmp_path / 'signing_key.pub').read_text().strip()}\n")
    git(registry.path, "config", "gpg.format", "ssh")
    git(registry.path, "config", "user.signingkey", str(key))
    git(registry.path, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    return key


def test_required_signature_missing_then_present(registry: Registry, tmp_path: Path, ssh_signing: Path) -> None:
    registry.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}))
    registry.register("m", file_package(tmp_path / "p2", {"model.bin": b"two"}))
    set_policy(registry, tmp_path, "  production:\n    require_signed: true\n")
    out = run_cli("promote", "m", "1", "production", "-r", str(registry.path))
    assert out.returncode == 1 and "requires a signature" in out.stderr and "Nothing was promoted" in out.stderr
    assert registry.stages_of("m") == {}
    out = run_cli("promote", "m", "1", "production", "--override-policy", "hotfix", "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    assert check_registry(registry.store) == []  # a recorded override is honoured ...
    found = check_registry(registry.store, allow_overrides=False)  # ... unless overrides are denied
    assert rules(found) == {("m", 1, "policy-signature")}
    out = run_cli("promote", "m", "2", "production", "--sign", "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    head = git(registry.path, "rev-parse", "stages/production").strip()
    assert (
        "Good"
        in subprocess.run(
            ["git", "-C", str(registry.path), "verify-commit", head], capture_output=True, text=True
        ).stderr
    )
    assert check_registry(registry.store) == []


def test_commit_gpgsign_config_signs_promotions(registry: Registry, tmp_path: Path, ssh_signing: Path) -> None:
    registry.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}))
    git(registry.path, "config", "commit.gpgsign", "true")
    reg = Registry.open(registry.path)  # a fresh store reads the config
    reg.promote("m", 1, "production")
    head = git(registry.path, "rev-parse", "stages/production").strip()
    assert subprocess.run(["git", "-C", str(registry.path), "verify-commit", head], capture_output=True).returncode == 0
    reg.close()


def test_signature_by_a_key_not_in_allowed_signers_is_rejected(
    registry: Registry, tmp_path: Path, ssh_signing: Path
) -> None:
    registry.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}))
    set_policy(registry, tmp_path, "  production:\n    require_signed: true\n")
    (tmp_path / "allowed_signers").write_text("")  # nobody is trusted
    out = run_cli("promote", "m", "1", "production", "--sign", "-r", str(registry.path))
    assert out.returncode == 1 and "No principal matched" in out.stderr  # the promotion itself is refused
    out = run_cli("promote", "m", "1", "production", "--sign", "--override-policy", "t", "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    assert rules(check_registry(registry.store, allow_overrides=False)) == {("m", 1, "policy-signature")}


def test_ci_shaped_review_of_a_pull_request_merge_in_a_shallow_clone(registry: Registry, tmp_path: Path) -> None:
    """What the shipped workflow does: a depth-1, tag-less checkout of the PR's
    merge commit, then gitreg check --base origin/stages/production."""
    registry.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}, metrics={"accuracy": 0.95}))
    registry.register("m", file_package(tmp_path / "p2", {"model.bin": b"two"}, metrics={"accuracy": 0.5}))
    registry.promote("m", 1, "production")
    set_policy(registry, tmp_path, "  production:\n    metrics: {accuracy: '>= 0.9'}\n")
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--mirror", f"file://{registry.path}", str(bare))
    branch = _candidate(registry, tmp_path, 2)
    git(registry.path, "push", "--quiet", f"file://{bare}", f"{branch}:{branch}")
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--no-tags", "--branch", branch, f"file://{bare}", str(ci))
    out = run_cli("check", "--base", "origin/stages/production", cwd=ci)
    assert out.returncode == 4, out.stdout + out.stderr
    assert "HEAD:models/m/gitreg.yaml: policy-metric: m v2" in out.stdout
    # the forge's merge commit of the same pull request fails the same way
    git(ci, "checkout", "--quiet", "--detach", "origin/stages/production")
    git(ci, "merge", "--quiet", "--no-ff", "-m", f"Merge pull request #12 from org/{branch}", f"origin/{branch}")
    out = run_cli("check", "--base", "origin/stages/production", cwd=ci)
    assert out.returncode == 4 and "policy-metric: m v2" in out.stdout


def _git_processes(registry: Registry, tmp_path: Path, label: str) -> int:
    trace = tmp_path / f"trace-{label}"
    out = run_cli("check", "-r", str(registry.path), env={"GIT_TRACE": str(trace)})
    assert out.returncode == 0, out.stdout + out.stderr
    return trace.read_text().count("trace: built-in: git ")


def test_check_runs_the_same_few_git_processes_however_many_versions(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    few = _git_processes(registry, tmp_path, "few")
    for i in range(12):
        registry.register(f"other{i % 3}", file_package(tmp_path / f"q{i}", {"model.bin": f"{i}".encode()}))
    assert _git_processes(registry, tmp_path, "many") == few <= 5


def test_a_version_tag_signed_afterwards_satisfies_require_signed(
    registry: Registry, tmp_path: Path, ssh_signing: Path
) -> None:
    registry.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}))
    registry.promote("m", 1, "production")
    set_policy(registry, tmp_path, "  production:\n    require_signed: true\n")
    assert rules(check_registry(registry.store)) == {("m", 1, "policy-signature")}
    # re-signing the tag in place keeps its commit, so the version is not "moved"
    git(registry.path, "tag", "-s", "-f", "-m", "Register m version 1 (signed)", "m/v1", "m/v1^{}")
    assert check_registry(registry.store) == []


def test_invalid_policy_is_a_schema_finding(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    set_policy(registry, tmp_path, "  production:\n    metrics: {accuracy: 'at least 0.9'}\n")
    found = check_registry(registry.store)
    assert [(f.file, f.rule) for f in found] == [("main:registry.yaml", "schema")]
    assert "'>= 0.9'" in found[0].message


def test_a_change_to_main_may_not_rewrite_a_registration(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    git(registry.path, "checkout", "--quiet", "-b", "tamper")
    record = (registry.path / "models/m.yaml").read_text()
    v1_tree = git(registry.path, "rev-parse", "m/v1:models/m").strip()
    v2_tree = git(registry.path, "rev-parse", "m/v2:models/m").strip()
    (registry.path / "models/m.yaml").write_text(record.replace(v1_tree, v2_tree, 1))
    git(registry.path, "commit", "--quiet", "-am", "rewrite")
    found = check_registry(registry.store, ref="tamper", base="main")
    assert rules(found) == {("m", 1, "record-rewritten")}


def test_promote_sign_without_a_signing_key_is_refused_and_nothing_changes(registry: Registry, tmp_path: Path) -> None:
    registry.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}))
    before = refs(registry.path)
    out = run_cli("promote", "m", "1", "production", "--sign", "-r", str(registry.path))
    assert out.returncode == 1, out.stdout
    assert "Could not sign the commit" in out.stderr and "user.signingkey" in out.stderr
    assert "Traceback" not in out.stderr
    assert refs(registry.path) == before


def test_a_local_main_behind_its_remote_does_not_make_newer_tags_look_moved(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    clone = tmp_path / "dev"
    git(tmp_path, "clone", "--quiet", f"file://{registry.path}", str(clone))
    registry.register("m", file_package(tmp_path / "p3", {"model.bin": b"three"}))
    git(clone, "fetch", "--quiet", "--tags", "origin")  # origin/main and m/v3 arrive; local main stays behind
    out = run_cli("check", cwd=clone)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_tag_moved_on_the_remote_is_not_fetched_over_the_local_one(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    clone = tmp_path / "dev"
    git(tmp_path, "clone", "--quiet", "--single-branch", f"file://{registry.path}", str(clone))
    git(registry.path, "tag", "-f", "-a", "-m", "moved", "m/v1", "m/v2^{}")
    local_v1 = git(clone, "rev-parse", "m/v1").strip()
    out = run_cli("check", cwd=clone)
    assert out.returncode == 4
    assert "checkout" in out.stdout and "would clobber existing tag" in out.stdout
    assert git(clone, "rev-parse", "m/v1").strip() == local_v1


def test_register_sign_writes_a_signed_version_tag_that_satisfies_require_signed(
    registry: Registry, tmp_path: Path, ssh_signing: Path
) -> None:
    set_policy(registry, tmp_path, "  production:\n    require_signed: true\n")
    file_package(tmp_path / "src", {"model.bin": b"one", "MLmodel": "flavors: {python_function: {}}\n"})
    out = run_cli("register", "m", str(tmp_path / "src"), "--sign", "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    verify = subprocess.run(["git", "-C", str(registry.path), "verify-tag", "m/v1"], capture_output=True, text=True)
    assert verify.returncode == 0 and "Good" in verify.stderr
    assert git(registry.path, "cat-file", "-p", "m/v1").splitlines()[2] == "tag m/v1"
    registry.promote("m", 1, "production")  # unsigned move; the signed tag is enough
    assert check_registry(registry.store) == []


def test_tag_gpgsign_config_signs_version_tags(registry: Registry, tmp_path: Path, ssh_signing: Path) -> None:
    git(registry.path, "config", "tag.gpgsign", "true")
    reg = Registry.open(registry.path)
    reg.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}))
    assert subprocess.run(["git", "-C", str(registry.path), "verify-tag", "m/v1"], capture_output=True).returncode == 0
    reg.close()


def test_register_sign_without_a_signing_key_is_refused_and_nothing_changes(registry: Registry, tmp_path: Path) -> None:
    file_package(tmp_path / "src", {"model.bin": b"one", "MLmodel": "flavors: {python_function: {}}\n"})
    before = refs(registry.path)
    out = run_cli("register", "m", str(tmp_path / "src"), "--sign", "-r", str(registry.path))
    assert out.returncode == 1 and "Could not sign" in out.stderr and "Traceback" not in out.stderr
    assert refs(registry.path) == before


def test_every_registry_operation_leaves_a_registry_that_checks_clean(registry: Registry, tmp_path: Path) -> None:
    build(registry, tmp_path)
    registry.register("m", file_package(tmp_path / "p3", {"model.bin": b"three"}))
    registry.register("gone", file_package(tmp_path / "g1", {"model.bin": b"g"}))
    registry.promote("gone", 1, "staging")
    registry.update_version("m", 1, description="first", tags={"k": "v"})
    registry.set_alias("m", "champion", 3)
    registry.delete_version("m", 3)
    registry.rename_model("m", "renamed")
    registry.delete_model("gone")
    registry.register("gone", file_package(tmp_path / "g2", {"model.bin": b"g2"}))  # numbering continues at v2
    assert check_registry(registry.store) == []


def test_a_bare_registry_checks_clean(bare_registry: Registry, tmp_path: Path) -> None:
    bare_registry.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}))
    bare_registry.promote("m", 1, "production")
    out = run_cli("check", "-r", str(bare_registry.path))
    assert out.returncode == 0, out.stdout + out.stderr
