"""The one write protocol keeps what the design brief promises when users,
crashes and remotes do the unexpected: a model's name cannot destroy another
model, a write the remote accepted is kept, a deleted version never lands in
a stage, and version numbers are never reused, even when main moves back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.gitcli import git, refs
from helpers.invariants import check_registry

from gitreg import locate
from gitreg.errors import AlreadyExistsError, IntegrityError, InvalidInputError, NotFoundError
from gitreg.registry import Package, Registry
from gitreg.store import RefUpdate
from gitreg.uri import parse


def _package(root: Path, data: bytes) -> Package:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.bin").write_bytes(data)
    return Package(root=root, files=("data.bin",), flavor="python_function")


# -- 1. names never collide in the tree ------------------------------------------


@pytest.mark.parametrize("name", ["foo.yaml", "Foo.YAML", "a.b.yaml"])
def test_a_model_name_ending_like_a_record_file_is_refused(registry: Registry, tmp_path: Path, name: str) -> None:
    registry.register("foo", _package(tmp_path / "p", b"one"))
    before = refs(registry.store.git_dir)
    with pytest.raises(InvalidInputError, match=r"may not end with '\.yaml'"):
        registry.register(name, _package(tmp_path / "q", b"two"))
    assert refs(registry.store.git_dir) == before
    assert registry.model_names() == ["foo"]
    assert registry.latest_ref("foo").version == 1


def test_a_name_differing_only_in_case_is_refused(registry: Registry, tmp_path: Path) -> None:
    registry.register("Churn", _package(tmp_path / "p", b"one"))
    with pytest.raises(AlreadyExistsError, match="differ by more than case"):
        registry.register("churn", _package(tmp_path / "q", b"two"))


# -- 2. a write the remote accepted is never undone -------------------------------


def test_a_write_the_remote_accepted_is_kept_when_the_mirror_cannot_record_it(
    bare_registry: Registry, tmp_path: Path
) -> None:
    """Fault injection: a reference-transaction hook in the local mirror refuses
    every ref update there (as a full disk or a crash would), after the remote
    has taken the push. The write is reported done, with a warning, and the
    remote holds the version with its tag."""
    url = f"file://{bare_registry.path}"
    reg = locate.open_registry(url)
    reg.register("M", _package(tmp_path / "p1", b"one"))
    hook = reg.store.git_dir / "hooks" / "reference-transaction"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text('#!/bin/sh\n[ "$1" = prepared ] && exit 1\nexit 0\n')
    hook.chmod(0o755)

    mv = reg.register("M", _package(tmp_path / "p2", b"two"))

    assert mv.version == 2
    assert any("could not record it" in w for w in reg.warnings), reg.warnings
    origin = Registry.open(bare_registry.path)
    assert origin.version_numbers("M") == [1, 2]
    assert origin.latest_ref("M").version == 2
    assert check_registry(bare_registry.path) == []
    hook.unlink()
    reg.refresh(force=True)
    assert reg.latest_ref("M").version == 2  # the mirror catches up on the next fetch


# -- 3. delete and promote: a deleted version never holds a stage -----------------


def _tombstone_behind_the_stages(registry: Registry, name: str, version: int) -> None:
    """What an older gitreg (or a crash between a delete's two steps) left: the
    version is deleted on main, but a stage still holds it."""
    store = registry.store
    head = store.ref("refs/heads/main")
    assert head is not None
    record = registry.record(name)
    from dataclasses import replace

    blob = store.write_blob(replace(record, deleted=(*record.deleted, version)).to_yaml().encode())
    tree = store.edit_tree(store.commit_tree(head), {f"models/{name}.yaml": ("100644", blob)})
    store.update_refs([RefUpdate("refs/heads/main", store.write_commit(tree, [head], "crafted"), head)])


def test_a_stage_holding_a_deleted_version_blocks_neither_listing_nor_promotion(
    bare_registry: Registry, tmp_path: Path
) -> None:
    reg = bare_registry
    for i in (1, 2):
        reg.register("M", _package(tmp_path / f"p{i}", f"v{i}".encode()))
    reg.promote("M", 1, "Production")
    _tombstone_behind_the_stages(reg, "M", 1)

    assert reg.get_model("M").aliases == {}
    assert reg.stage_ref_version("M", "production") is None
    assert [m.name for m in map(reg.get_model, reg.model_names())] == ["M"]
    with pytest.raises(NotFoundError, match="no version in stage 'Production'"):
        reg.resolve(parse("models:/M/Production"))
    assert reg.promote("M", 2, "Production").current_stage == "Production"
    assert reg.resolve(parse("models:/M/Production")).version == 2


def test_a_promotion_planned_before_a_delete_lands_is_planned_again_and_refused(
    bare_registry: Registry, tmp_path: Path
) -> None:
    """The promotion leases main: the delete's commit point moves main, so the
    promotion's transaction fails, is planned again, and finds the version gone."""
    reg = bare_registry
    for i in (1, 2):
        reg.register("M", _package(tmp_path / f"p{i}", f"v{i}".encode()))
    other = Registry.open(reg.path)
    publish = reg.writer._publish
    raced = []

    def delete_first(plan):  # type: ignore[no-untyped-def]
        if not raced:
            raced.append(True)
            other.delete_version("M", 2)
        return publish(plan)

    reg.writer._publish = delete_first  # type: ignore[method-assign]
    with pytest.raises(NotFoundError, match="deleted"):
        reg.promote("M", 2, "Production")
    assert raced and reg.stages_of("M") == {}
    assert reg.store.tree_oid("refs/heads/stages/production:models/M") is None


def test_deleting_a_version_takes_it_out_of_every_stage(bare_registry: Registry, tmp_path: Path) -> None:
    reg = bare_registry
    for i in (1, 2):
        reg.register("M", _package(tmp_path / f"p{i}", f"v{i}".encode()))
    reg.promote("M", 2, "Production")
    reg.set_alias("M", "champion", 2)
    reg.delete_version("M", 2)
    assert reg.store.tree_oid("refs/heads/stages/production:models/M") is None
    assert reg.store.tree_oid("refs/heads/stages/champion:models/M") is None
    assert reg.latest_ref("M").version == 1
    assert check_registry(reg.path) == []


# -- 4. a killed registration's tag is never taken for a version --------------------


def test_deleting_the_latest_version_ignores_a_killed_registrations_tag(
    bare_registry: Registry, tmp_path: Path
) -> None:
    reg = bare_registry
    for i in (1, 2):
        reg.register("M", _package(tmp_path / f"p{i}", f"v{i}".encode()))
    # a registration of v3 killed after creating its tag, before moving main
    store = reg.store
    head = store.ref("refs/heads/main")
    assert head is not None
    orphan = store.write_commit(store.commit_tree(head), [head], "Register M version 3")
    store.update_refs([RefUpdate("refs/tags/M/v3", store.write_tag(orphan, "M/v3", "killed"), None)])

    reg.delete_version("M", 2)

    assert reg.latest_ref("M").version == 1
    assert reg.version_numbers("M") == [1]
    assert reg.resolve(parse("models:/M/latest")).version == 1


# -- 5. main moving backwards never reuses a version number --------------------------


def test_a_reset_of_main_behind_gitregs_writes_is_refused_before_writing(registry: Registry, tmp_path: Path) -> None:
    for i in (1, 2):
        registry.register("M", _package(tmp_path / f"p{i}", f"v{i}".encode()))
    git(registry.path, "reset", "-q", "--hard", "HEAD~1")  # as a 'git rebase --abort' would
    before = refs(registry.store.git_dir)
    with pytest.raises(IntegrityError, match=r"no longer contains commit .*'git merge "):
        registry.register("M", _package(tmp_path / "p3", b"v3"))
    with pytest.raises(IntegrityError, match="no longer contains"):
        registry.promote("M", 1, "Production")
    assert refs(registry.store.git_dir) == before


def test_a_commit_from_a_stale_checkout_that_rolls_the_record_back_is_refused(
    registry: Registry, tmp_path: Path
) -> None:
    """main moved forward, but its content went back: version 2's record and
    directory are gone while tag M/v2 is on main's history."""
    for i in (1, 2):
        registry.register("M", _package(tmp_path / f"p{i}", f"v{i}".encode()))
    git(registry.path, "checkout", "-q", "HEAD~1", "--", "models")
    git(registry.path, "commit", "-q", "-m", "edit made in a stale checkout")
    before = refs(registry.store.git_dir)
    with pytest.raises(IntegrityError, match="Version 2 of 'M' was registered on main"):
        registry.register("M", _package(tmp_path / "p3", b"v3"))
    assert refs(registry.store.git_dir) == before


def test_a_bare_registry_whose_main_was_rewound_refuses_to_reuse_the_number(
    bare_registry: Registry, tmp_path: Path
) -> None:
    reg = bare_registry
    for i in (1, 2):
        reg.register("M", _package(tmp_path / f"p{i}", f"v{i}".encode()))
    v1 = reg.version_ref("M", 1).commit
    git(reg.path, "update-ref", "refs/heads/main", v1)
    os.environ["GITREG_STALE_LOCK_SECONDS"] = "0"
    try:
        with pytest.raises(IntegrityError, match="registered on main"):
            reg.register("M", _package(tmp_path / "p3", b"v3"))
    finally:
        del os.environ["GITREG_STALE_LOCK_SECONDS"]
    assert git(reg.path, "rev-parse", "refs/heads/main").strip() == v1


def test_writing_during_a_rebase_or_on_a_stage_checkout_warns(registry: Registry, tmp_path: Path) -> None:
    registry.register("M", _package(tmp_path / "p1", b"v1"))
    (registry.store.git_dir / "rebase-merge").mkdir()
    registry.register("M", _package(tmp_path / "p2", b"v2"))
    assert any("a rebase is in progress" in w for w in registry.warnings), registry.warnings
    (registry.store.git_dir / "rebase-merge").rmdir()
    registry.warnings.clear()
    registry.promote("M", 2, "Production")
    git(registry.path, "checkout", "-q", "stages/production")
    registry.promote("M", 1, "Staging")
    assert any("checked out on stages/production" in w for w in registry.warnings), registry.warnings


# -- clear errors ---------------------------------------------------------------------


def test_renaming_onto_a_deleted_models_name_is_refused_with_the_reason(registry: Registry, tmp_path: Path) -> None:
    registry.register("old", _package(tmp_path / "p1", b"v1"))
    registry.delete_model("old")
    registry.register("M", _package(tmp_path / "p2", b"v2"))
    before = refs(registry.store.git_dir)
    with pytest.raises(AlreadyExistsError, match="existed before and its versions"):
        registry.rename_model("M", "old")
    assert refs(registry.store.git_dir) == before


def test_rename_moves_versions_stages_and_aliases_and_leaves_no_old_entries(
    bare_registry: Registry, tmp_path: Path
) -> None:
    reg = bare_registry
    for i in (1, 2):
        reg.register("M", _package(tmp_path / f"p{i}", f"v{i}".encode()))
    reg.promote("M", 1, "Production")
    reg.set_alias("M", "champion", 2)
    model = reg.rename_model("M", "N")
    assert model.aliases == {"Production": 1, "champion": 2}
    assert reg.model_names() == ["N"]
    for stage in ("production", "champion"):
        assert reg.store.tree_oid(f"refs/heads/stages/{stage}:models/M") is None
    assert check_registry(reg.path) == []
