"""Registry.register_many: many versions as one chain of commits and one ref
transaction, the very objects single registrations make."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitreg import package
from gitreg.errors import AlreadyExistsError
from gitreg.pyfunc import load_model
from gitreg.registry import MAIN, NewVersion, Registry, tag_ref
from gitreg.uri import parse


def _fsck(path: Path) -> None:
    proc = subprocess.run(["git", "-C", str(path), "fsck", "--strict"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bulk_versions_read_like_single_registrations(registry: Registry, saved_model: Path) -> None:
    pkg = package.from_directory(saved_model)
    refs = registry.register_many(
        [NewVersion("A", pkg), NewVersion("B", pkg, description="first b", tags={"k": "v"}), NewVersion("A", pkg)]
    )
    assert [(r.name, r.version) for r in refs] == [("A", 1), ("B", 1), ("A", 2)]
    for r in refs:
        assert registry.version_ref(r.name, r.version) == r
    assert registry.model_names() == ["A", "B"]
    assert [v.version for v in registry.list_versions("A")] == [1, 2]
    assert registry.get_version("B", 1).description == "first b"
    assert registry.get_version("B", 1).tags == {"k": "v"}
    assert registry.resolve(parse("models:/A/latest")).version == 2
    registry.promote("A", 1, "production")
    assert registry.resolve(parse("models:/A/Production")).version == 1
    assert load_model("models:/A/Production", registry=registry).predict([[1.0], [2.0]]).tolist() == [1, 1]
    # the work tree shows the new versions, and the repository is sound
    assert (registry.path / "models" / "A" / "gitreg.yaml").exists()
    _fsck(registry.path)


def test_bulk_and_single_registrations_continue_one_numbering(registry: Registry, saved_model: Path) -> None:
    pkg = package.from_directory(saved_model)
    registry.register("A", pkg)
    registry.register_many([NewVersion("A", pkg), NewVersion("A", pkg)])
    assert registry.register("A", pkg).version == 4
    # each version is one commit on main, its tag on that commit
    log = registry.store.log(MAIN, ["models/A"])
    assert [e.subject for e in log] == [f"Register A version {v}" for v in (4, 3, 2, 1)]
    for entry, v in zip(log, (4, 3, 2, 1), strict=True):
        assert registry.store.read(f"{tag_ref('A', v)}^{{commit}}")[0] == entry.commit
    _fsck(registry.path)


def test_bulk_refused_for_a_name_differing_only_by_case_changes_nothing(
    bare_registry: Registry, saved_model: Path
) -> None:
    pkg = package.from_directory(saved_model)
    bare_registry.register("Model", pkg)
    before = bare_registry.store.git("for-each-ref")
    with pytest.raises(AlreadyExistsError):
        bare_registry.register_many([NewVersion("Other", pkg), NewVersion("MODEL", pkg)])
    assert bare_registry.store.git("for-each-ref") == before
    assert not list((bare_registry.store.git_dir / "objects" / "pack").glob("*.pack"))


def test_bulk_of_nothing_writes_nothing(bare_registry: Registry) -> None:
    head = bare_registry.store.ref(MAIN)
    assert bare_registry.register_many([]) == []
    assert bare_registry.store.ref(MAIN) == head
