"""A signed promotion authorises one stage, model and version (its ``Gitreg-*``
trailers): ``require_signed`` accepts a stage's signature only where it names
what the stage holds. Real git repositories, real SSH signatures."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from helpers.gitcli import git
from served_models import Constant

import gitreg.pyfunc
from gitreg import testing
from gitreg import uri as uris
from gitreg.errors import IntegrityError
from gitreg.registry import Registry
from gitreg.server.follow import ModelSet, StageSource, UriSource
from gitreg.signatures import authorisation


def load(registry: Registry, uri: str) -> int:
    return gitreg.pyfunc.load_model(uri, registry=registry, require_signed=True).metadata.version


def signed_commit(repo: Path, tree: str, parent: str, message: str) -> str:
    """A commit signed with the trusted key, as someone holding it (or a forge trusted with it) would make."""
    return git(repo, "commit-tree", "-S", "-p", parent, tree, input=message).strip()


@pytest.fixture
def signed(registry: Registry, tmp_path: Path) -> Registry:
    """m v1 and v2 with signed tags; v1 promoted to Staging and to Production by signed commits."""
    key = tmp_path / "signing_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "t", "-f", str(key)], check=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"author@example.com {(tmp_path / 'signing_key.pub').read_text().strip()}\n")
    git(registry.path, "config", "gpg.format", "ssh")
    git(registry.path, "config", "user.signingkey", str(key))
    git(registry.path, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    store = registry.store
    store.sign_tags = True
    for v in (1, 2):
        gitreg.pyfunc.log_model(f"v{v}", python_model=Constant(v), registered_model_name="m", registry=registry)
    store.sign_commits = True
    registry.promote("m", 1, "Staging", exclusive_fixed=False)
    registry.promote("m", 1, "Production", exclusive_fixed=False)
    store.sign_commits = None
    return registry


def test_a_signed_promotion_commit_names_its_stage_model_and_version(signed: Registry):
    message = git(signed.path, "log", "-1", "--format=%B", "stages/production").strip()
    got = authorisation(message)
    assert (got.stage, got.model, got.version) == ("production", "m", 1)
    assert load(signed, "models:/m/Production") == 1


def test_production_pointed_at_the_signed_staging_promotion_is_refused_naming_both(signed: Registry):
    staging = git(signed.path, "rev-parse", "stages/staging").strip()
    git(signed.path, "update-ref", "refs/heads/stages/production", staging)  # same version, same tree
    with pytest.raises(IntegrityError) as err:
        load(signed, "models:/m/Production")
    message = str(err.value)
    assert f"signed promotion commit {staging[:12]} authorises m version 1 in staging" in message
    assert "stages/production holds m version 1 in production" in message
    assert load(signed, "models:/m/Staging") == 1  # where it was made for, it counts


def test_a_signed_commit_whose_trailers_name_another_version_is_refused(signed: Registry):
    head = git(signed.path, "rev-parse", "stages/production").strip()
    v2 = git(signed.path, "rev-parse", "m/v2:models/m").strip()
    tree = git(signed.path, "mktree", input=f"040000 tree {v2}\tm\n").strip()
    root = git(signed.path, "mktree", input=f"040000 tree {tree}\tmodels\n").strip()
    message = "Promote m\n\nGitreg-Stage: production\nGitreg-Model: m\nGitreg-Version: 1\n"
    git(signed.path, "update-ref", "refs/heads/stages/production", signed_commit(signed.path, root, head, message))
    with pytest.raises(IntegrityError, match="authorises m version 1 in production, but stages/production holds m "):
        load(signed, "models:/m/Production")


def test_a_signed_forge_merge_without_trailers_authorises_nothing_and_one_with_them_counts(signed: Registry):
    signed.store.sign_commits = True
    proposal = signed.propose("m", 2, "production")
    assert authorisation(proposal.message).version == 2  # the proposal carries the trailers
    base = git(signed.path, "rev-parse", "stages/production").strip()
    tree = git(signed.path, "rev-parse", f"{proposal.commit}^{{tree}}").strip()
    merge = git(
        signed.path, "commit-tree", "-S", "-p", base, "-p", proposal.commit, tree, input="Merge pull request #7\n"
    ).strip()
    git(signed.path, "update-ref", "refs/heads/stages/production", merge)
    with pytest.raises(IntegrityError, match="authorises nothing"):
        load(signed, "models:/m/Production")
    trailers = proposal.message.split("\n\n")[-1]
    merge = git(
        signed.path, "commit-tree", "-S", "-p", base, "-p", proposal.commit, tree, input=f"Merge #7\n\n{trailers}\n"
    ).strip()
    git(signed.path, "update-ref", "refs/heads/stages/production", merge)
    assert load(signed, "models:/m/Production") == 2


def test_a_fast_forwarded_signed_proposal_loads(signed: Registry):
    signed.store.sign_commits = True
    proposal = signed.propose("m", 2, "production")
    git(signed.path, "update-ref", "refs/heads/stages/production", proposal.commit)
    assert load(signed, "models:/m/Production") == 2


def test_a_trailer_given_twice_authorises_nothing():
    got = authorisation("Promote\n\nGitreg-Stage: production\nGitreg-Model: m\nGitreg-Version: 1\nGitreg-Version: 2")
    assert got.version is None and not got.names("production", "m", 1)
    assert authorisation("Gitreg-Stage: production").stage is None  # a subject is not a trailer


def test_rollback_to_an_older_signed_promotion_of_the_stage_is_still_accepted(signed: Registry):
    """Not prevented by signatures (docs/security.md): forbid non-fast-forward stage moves instead."""
    old = git(signed.path, "rev-parse", "stages/production").strip()
    signed.store.sign_commits = True
    signed.promote("m", 2, "Production")
    assert load(signed, "models:/m/Production") == 2
    git(signed.path, "update-ref", "refs/heads/stages/production", old)
    assert load(signed, "models:/m/Production") == 1


def test_after_a_refused_unsigned_promotion_a_signed_one_of_the_same_version_writes_a_commit(
    signed: Registry, env: dict[str, str]
):
    unsigned = testing.run_cli("promote", "m", "2", "Production", "-r", str(signed.path), env=env)
    assert unsigned.returncode == 0, unsigned.stderr
    with pytest.raises(IntegrityError, match="no valid signature"):
        load(signed, "models:/m/Production")
    head = git(signed.path, "rev-parse", "stages/production").strip()
    again = testing.run_cli("promote", "m", "2", "Production", "--sign", "-r", str(signed.path), env=env)
    assert again.returncode == 0, again.stderr
    resigned = git(signed.path, "rev-parse", "stages/production").strip()
    assert resigned != head
    assert (
        git(signed.path, "rev-parse", f"{resigned}^{{tree}}").strip()
        == git(signed.path, "rev-parse", f"{head}^{{tree}}").strip()
    )
    assert load(signed, "models:/m/Production") == 2
    # once bound, signing again changes nothing; nor does an unsigned promotion of what is held
    testing.run_cli("promote", "m", "2", "Production", "--sign", "-r", str(signed.path), env=env)
    testing.run_cli("promote", "m", "2", "Production", "-r", str(signed.path), env=env)
    assert git(signed.path, "rev-parse", "stages/production").strip() == resigned


def test_a_signed_promotion_of_another_model_leaves_the_binding_in_place(signed: Registry):
    gitreg.pyfunc.log_model("o", python_model=Constant(9), registered_model_name="other", registry=signed)
    signed.store.sign_commits = True
    signed.promote("other", 1, "Production")
    assert load(signed, "models:/m/Production") == 1


@pytest.mark.parametrize("whole_stage", [False, True])
def test_a_follower_picks_up_a_signed_promotion_of_the_tree_it_refused(signed: Registry, whole_stage: bool):
    source = (
        StageSource("production", signed, require_signed=True)
        if whole_stage
        else UriSource(uris.parse("models:/m/Production"), signed, require_signed=True)
    )
    models = ModelSet(source, keep_missing=not whole_stage, default_name="m")
    models.sync(initial=True)
    signed.store.sign_commits = False
    signed.promote("m", 2, "Production")
    [refused] = models.sync()
    assert "refusing the new version of m" in refused and models.get("m").metadata.version == 1
    assert models.sync() == []  # refused once, not every poll
    signed.store.sign_commits = True
    signed.promote("m", 2, "Production")  # the same tree, a new signed commit
    [swapped] = models.sync()
    assert swapped == "m: swapped version 1 for version 2" and models.get("m").metadata.version == 2


def test_a_past_state_of_a_stage_is_checked_by_the_promotion_that_made_it(signed: Registry):
    """``models:/m/Production@when`` is judged by the commit the stage was at then, not by its tip:
    a signed past stays loadable after an unsigned move, and an unsigned past is refused whatever
    the tip."""
    signed_at = int(git(signed.path, "log", "-1", "--format=%ct", "stages/production").strip())
    time.sleep(1.1)  # git's commit times are whole seconds
    signed.promote("m", 2, "Production")  # unsigned
    unsigned_at = int(git(signed.path, "log", "-1", "--format=%ct", "stages/production").strip())
    with pytest.raises(IntegrityError, match="has no valid signature"):
        load(signed, "models:/m/Production")
    assert load(signed, f"models:/m/Production@{uris.format_instant(signed_at)}") == 1
    time.sleep(1.1)
    signed.store.sign_commits = True
    signed.promote("m", 1, "Production")
    signed.store.sign_commits = None
    assert load(signed, "models:/m/Production") == 1
    with pytest.raises(IntegrityError, match="has no valid signature"):
        load(signed, f"models:/m/Production@{uris.format_instant(unsigned_at)}")
