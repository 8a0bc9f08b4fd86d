"""The cache's cheap check: a version is hashed byte by byte when it is
materialised; later loads trust its files while their status (size, mtime,
ctime, inode) is what was recorded then, and hash again when anything about
a file changed or when asked to (verify=True). Nothing changed after
verification is ever handed to a loader unchecked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gitreg import cache
from gitreg.errors import IntegrityError
from gitreg.registry import Registry
from gitreg.testing import file_package


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file the cache hashes from disk, in order (a spy: the hashing itself is real)."""
    seen: list[Path] = []
    real = cache.file_sha256

    def spy(path: Path) -> tuple[str, int]:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(cache, "file_sha256", spy)
    return seen


def _version(bare_registry: Registry, tmp_path: Path) -> tuple[Registry, str]:
    package = file_package(tmp_path / "pkg", {"weights.bin": os.urandom(4096), "MLmodel": "flavors: {}\n"})
    mv = bare_registry.register("M", package)
    return bare_registry, bare_registry.version_ref("M", mv.version).tree


def _load(reg: Registry, tree: str, *, verify: bool = False) -> Path:
    ref = reg.version_ref("M", 1)
    return cache.materialize(reg.store, tree, ref.manifest, "M version 1", verify=verify)


def test_a_cached_load_reads_no_artifact_bytes(bare_registry: Registry, tmp_path: Path, hashed: list[Path]) -> None:
    reg, tree = _version(bare_registry, tmp_path)
    first = _load(reg, tree)
    assert hashed == []  # materialising hashes what it writes, as it writes it
    assert _load(reg, tree) == first and _load(reg, tree) == first
    assert hashed == []


def test_verify_hashes_every_byte_of_a_cached_version(
    bare_registry: Registry, tmp_path: Path, hashed: list[Path]
) -> None:
    reg, tree = _version(bare_registry, tmp_path)
    entry = _load(reg, tree)
    _load(reg, tree, verify=True)
    assert sorted(p.name for p in hashed) == ["MLmodel", "weights.bin"]
    assert _load(reg, tree) == entry and len(hashed) == 2  # and records them again


def test_a_file_changed_in_the_cache_is_refused_even_with_its_size_and_mtime_restored(
    bare_registry: Registry, tmp_path: Path
) -> None:
    reg, tree = _version(bare_registry, tmp_path)
    weights = _load(reg, tree) / "weights.bin"
    before = weights.stat()
    weights.write_bytes(os.urandom(before.st_size))  # same size, and the mtime put back: only ctime tells
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(IntegrityError, match=r"weights\.bin does not match its manifest"):
        _load(reg, tree)
    with pytest.raises(IntegrityError):  # and it stays refused: no record vouches for it now
        _load(reg, tree)


def test_a_file_rewritten_right_after_materialising_is_refused(bare_registry: Registry, tmp_path: Path) -> None:
    """A write in the same clock tick as the check: the seal (mtime moved back) still shows it."""
    reg, tree = _version(bare_registry, tmp_path)
    weights = _load(reg, tree) / "weights.bin"
    with open(weights, "r+b") as fh:
        fh.write(b"\0" * 16)
    with pytest.raises(IntegrityError, match=r"weights\.bin does not match its manifest"):
        _load(reg, tree)


def test_a_replaced_file_is_hashed_again(bare_registry: Registry, tmp_path: Path, hashed: list[Path]) -> None:
    reg, tree = _version(bare_registry, tmp_path)
    weights = _load(reg, tree) / "weights.bin"
    copy = tmp_path / "copy"
    copy.write_bytes(weights.read_bytes())
    st = weights.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(copy, weights)  # same bytes, another inode
    _load(reg, tree)
    assert [p.name for p in hashed] == ["MLmodel", "weights.bin"]


def test_a_record_for_other_content_vouches_for_nothing(
    bare_registry: Registry, tmp_path: Path, hashed: list[Path]
) -> None:
    reg, tree = _version(bare_registry, tmp_path)
    entry = _load(reg, tree)
    stamp = entry.with_name(entry.name + ".verified")
    record = json.loads(stamp.read_text())
    record["weights.bin"][0] = "0" * 64
    stamp.write_text(json.dumps(record))
    _load(reg, tree)
    assert len(hashed) == 2


def test_an_entry_without_a_record_is_hashed_once_then_trusted(
    bare_registry: Registry, tmp_path: Path, hashed: list[Path]
) -> None:
    """An entry an older gitreg made: verified in full on its first load, then by status."""
    reg, tree = _version(bare_registry, tmp_path)
    entry = _load(reg, tree)
    entry.with_name(entry.name + ".verified").unlink()
    _load(reg, tree)
    _load(reg, tree)
    assert len(hashed) == 2


def test_load_model_verify_re_hashes_the_cached_version(bare_registry: Registry, hashed: list[Path]) -> None:
    import gitreg.sklearn
    from gitreg import pyfunc, testing

    gitreg.sklearn.log_model(testing.seed_model(), "model", registered_model_name="Seed", registry=bare_registry)
    pyfunc.load_model("models:/Seed/1", bare_registry)
    pyfunc.load_model("models:/Seed/1", bare_registry)
    assert hashed == []
    pyfunc.load_model("models:/Seed/1", bare_registry, verify=True)
    assert "model.pkl" in [p.name for p in hashed]
