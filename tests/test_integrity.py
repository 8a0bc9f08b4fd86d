"""Tampering is caught before anything is unpickled: a stage branch pointing
``models/M/`` at other content while claiming a version, an artifact changed
under its manifest, and a file changed in the local cache."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

import gitreg.pyfunc
from gitreg.errors import IntegrityError
from gitreg.registry import Registry
from gitreg.store import MODE_FILE, MODE_TREE, RefUpdate


class Marker:
    """Unpickling this creates a file: proof that a payload ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (self.path, "w"))


def tampered_stage(reg: Registry, marker: Path, *, keep_manifest: bool) -> None:
    """Point stages/production's models/m/ at a subtree whose model.pkl is a
    payload, claiming version 1 (with the real manifest, or one rewritten to match)."""
    ref = reg.version_ref("m", 1)
    payload = pickle.dumps(Marker(str(marker)))
    changes = {"python_model.pkl": (MODE_FILE, reg.store.write_blob(payload))}
    if not keep_manifest:
        import hashlib

        text = reg.store.read_blob(f"{ref.tree}:gitreg.yaml").decode()
        old = ref.manifest.artifact("python_model.pkl")
        text = text.replace(old.sha256, hashlib.sha256(payload).hexdigest()).replace(
            f"size: {old.size}\n", f"size: {len(payload)}\n"
        )
        changes["gitreg.yaml"] = (MODE_FILE, reg.store.write_blob(text.encode()))
    subtree = reg.store.edit_tree(ref.tree, changes)
    head = reg.store.ref("refs/heads/stages/production")
    root = reg.store.edit_tree(reg.store.commit_tree(head), {"models/m": (MODE_TREE, subtree)})
    commit = reg.store.write_commit(root, [head], "Promote m version 1 to Production")
    reg.store.update_refs([RefUpdate("refs/heads/stages/production", commit, head)])


class Echo(gitreg.pyfunc.PythonModel):
    def predict(self, context, model_input):  # type: ignore[no-untyped-def]
        return list(model_input)


@pytest.fixture
def promoted(registry: Registry) -> Registry:
    gitreg.pyfunc.log_model("model", python_model=Echo(), registered_model_name="m", registry=registry)
    registry.promote("m", 1, "Production")
    return registry


@pytest.mark.parametrize("keep_manifest", [True, False], ids=["artifact-swapped", "artifact-and-manifest-swapped"])
def test_tampered_stage_branch_is_refused_before_unpickling(promoted: Registry, tmp_path: Path, keep_manifest: bool):
    marker = tmp_path / "payload-ran"
    tampered_stage(promoted, marker, keep_manifest=keep_manifest)
    with pytest.raises(IntegrityError, match=r"stages/production:models/m/ claims version 1 .*differs from tag"):
        gitreg.pyfunc.load_model("models:/m/Production", registry=promoted)
    assert not marker.exists()
    assert gitreg.pyfunc.load_model("models:/m/1", registry=promoted).predict([1]) == [1]


def test_artifact_changed_in_the_cache_is_refused_before_unpickling(promoted: Registry, tmp_path: Path):
    model = gitreg.pyfunc.load_model("models:/m/1", registry=promoted)
    marker = tmp_path / "payload-ran"
    cached = Path(model.metadata.path) / "python_model.pkl"
    os.chmod(cached, 0o644)
    cached.write_bytes(pickle.dumps(Marker(str(marker))))
    with pytest.raises(IntegrityError, match=r"python_model.pkl does not match its manifest"):
        gitreg.pyfunc.load_model("models:/m/1", registry=promoted)
    assert not marker.exists()


def test_tag_whose_blob_differs_from_its_manifest_is_refused_before_unpickling(registry: Registry, tmp_path: Path):
    """A version tag crafted through plumbing: the manifest's sha256 names other bytes."""
    gitreg.pyfunc.log_model("model", python_model=Echo(), registered_model_name="m", registry=registry)
    ref = registry.version_ref("m", 1)
    marker = tmp_path / "payload-ran"
    blob = registry.store.write_blob(pickle.dumps(Marker(str(marker))))
    subtree = registry.store.edit_tree(ref.tree, {"python_model.pkl": (MODE_FILE, blob)})
    root = registry.store.edit_tree(registry.store.commit_tree(ref.commit), {"models/m": (MODE_TREE, subtree)})
    commit = registry.store.write_commit(root, [ref.commit], "Register m version 1")
    tag = registry.store.write_tag(commit, "m/v1", "Register m version 1")
    old = registry.store.ref("refs/tags/m/v1")
    registry.store.update_refs([RefUpdate("refs/tags/m/v1", tag, old)])
    with pytest.raises(IntegrityError, match=r"python_model.pkl has sha256 .* but the manifest says"):
        gitreg.pyfunc.load_model("models:/m/1", registry=registry)
    assert not marker.exists()
