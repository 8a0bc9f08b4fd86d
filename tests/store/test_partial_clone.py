"""A reader's mirror is a partial clone: refs, commits and trees come with a
fetch, a version's blobs only when it is loaded, in one batch; listings read
manifests fetched eagerly with their refs. Real bare remotes over file:// and,
for one test, git's smart HTTP (``git http-backend`` behind a tiny server)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.git_http import serve_git_http
from helpers.gitcli import git

from gitreg import locate
from gitreg.pyfunc import materialized
from gitreg.registry import Package, Registry
from gitreg.remote import RemoteRegistry
from gitreg.uri import parse


def _package(root: Path, **files: bytes) -> Package:
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (root / name).write_bytes(data)
    return Package(root=root, files=tuple(files), flavor="python_function")


def _missing(mirror: Path, rev: str) -> set[str]:
    """Objects reachable from ``rev`` that the mirror does not hold (asked without fetching them)."""
    out = git(mirror, "rev-list", "--objects", "--missing=print", rev)
    return {line[1:] for line in out.splitlines() if line.startswith("?")}


def _blob(repo: Path, spec: str) -> str:
    return git(repo, "rev-parse", spec).strip()


def _packs(mirror: Path) -> int:
    return len(list((mirror / "objects" / "pack").glob("*.pack")))


@pytest.fixture
def origin(bare_registry: Registry, tmp_path: Path) -> Registry:
    """A bare registry with three versions of M, each with its own artifacts."""
    for v in (1, 2, 3):
        bare_registry.register(
            "M", _package(tmp_path / f"p{v}", **{"weights.bin": os.urandom(50_000), "extra.txt": b"v%d" % v})
        )
    bare_registry.promote("M", 3, "production")
    return bare_registry


def open_remote(url: str) -> RemoteRegistry:
    reg = locate.open_registry(url)
    assert isinstance(reg, RemoteRegistry)
    return reg


def test_init_bare_lets_readers_fetch_partially(bare_registry: Registry) -> None:
    assert git(bare_registry.path, "config", "uploadpack.allowFilter").strip() == "true"
    assert git(bare_registry.path, "config", "uploadpack.allowAnySHA1InWant").strip() == "true"


def test_init_bare_has_the_server_search_small_objects_widely_for_deltas(bare_registry: Registry) -> None:
    """What readers' clones download at 500 versions over 50 models is mostly the models/ trees,
    stored whole by a repack with git's default window (1.58-1.66x a 10-version registry; 1.23x
    with these settings, benchmarks/remote.py and docs/scale.md); big artifacts are not searched."""
    assert git(bare_registry.path, "config", "pack.window").strip() == "50"
    assert git(bare_registry.path, "config", "core.bigFileThreshold").strip() == "1m"


def test_mirror_is_a_partial_clone_of_the_remote(origin: Registry) -> None:
    reg = open_remote(f"file://{origin.path}")
    mirror = reg.store.git_dir
    assert git(mirror, "config", "remote.origin.promisor").strip() == "true"
    assert git(mirror, "config", "remote.origin.partialclonefilter").strip() == "blob:none"
    assert _blob(origin.path, "M/v1:models/M/weights.bin") in _missing(mirror, "refs/tags/M/v1")


def test_mirror_holds_no_blob_of_a_version_it_did_not_load(origin: Registry) -> None:
    reg = open_remote(f"file://{origin.path}")
    mirror = reg.store.git_dir
    directory = materialized(parse("models:/M/2"), reg)
    assert (directory / "extra.txt").read_bytes() == b"v2"
    for unloaded in (1, 3):
        missing = _missing(mirror, f"refs/tags/M/v{unloaded}")
        assert _blob(origin.path, f"M/v{unloaded}:models/M/weights.bin") in missing
        assert _blob(origin.path, f"M/v{unloaded}:models/M/extra.txt") in missing
    loaded = _missing(mirror, "refs/tags/M/v2")
    assert _blob(origin.path, "M/v2:models/M/weights.bin") not in loaded
    assert _blob(origin.path, "M/v2:models/M/extra.txt") not in loaded


def test_a_versions_blobs_come_in_one_fetch(origin: Registry) -> None:
    reg = open_remote(f"file://{origin.path}")
    mirror = reg.store.git_dir
    before = _packs(mirror)
    materialized(parse("models:/M/1"), reg)
    assert _packs(mirror) == before + 1  # every fetch from a promisor remote lands as one pack


def test_listings_read_manifests_fetched_with_the_refs(origin: Registry) -> None:
    reg = open_remote(f"file://{origin.path}")
    mirror = reg.store.git_dir
    before = _packs(mirror)
    assert [v.version for v in reg.list_versions("M")] == [1, 2, 3]
    assert reg.get_model("M").name == "M"
    assert reg.resolve(parse("models:/M/Production")).version == 3
    assert _packs(mirror) == before  # nothing was fetched blob by blob


def test_new_versions_bring_their_manifests_on_the_next_fetch(origin: Registry, tmp_path: Path) -> None:
    reg = open_remote(f"file://{origin.path}")
    origin.register("M", _package(tmp_path / "p4", **{"weights.bin": os.urandom(1000)}))
    reg.refresh(force=True)
    before = _packs(reg.store.git_dir)
    assert [v.version for v in reg.list_versions("M")] == [1, 2, 3, 4]
    assert _packs(reg.store.git_dir) == before
    assert _blob(origin.path, "M/v4:models/M/weights.bin") in _missing(reg.store.git_dir, "refs/tags/M/v4")


def test_server_refusing_filters_still_serves_and_warns_once(
    origin: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    git(origin.path, "config", "uploadpack.allowFilter", "false")
    with caplog.at_level(logging.WARNING, logger="gitreg"):
        reg = open_remote(f"file://{origin.path}")
        reg.refresh(force=True)
        directory = materialized(parse("models:/M/3"), reg)
    assert (directory / "extra.txt").read_bytes() == b"v3"
    warnings = [r.getMessage() for r in caplog.records if "uploadpack.allowFilter" in r.getMessage()]
    assert len(warnings) == 1
    assert not _missing(reg.store.git_dir, "--all")  # the server sent everything


@pytest.fixture
def http_url(origin: Registry) -> Iterator[str]:
    with serve_git_http(origin.path.parent) as base:
        yield f"{base}/{origin.path.name}"


def test_partial_mirror_over_smart_http_fetches_only_the_loaded_version(origin: Registry, http_url: str) -> None:
    reg = open_remote(http_url)
    mirror = reg.store.git_dir
    assert [v.version for v in reg.list_versions("M")] == [1, 2, 3]
    before = _packs(mirror)
    directory = materialized(parse("models:/M/Production"), reg)
    assert (directory / "extra.txt").read_bytes() == b"v3"
    assert _packs(mirror) == before + 1
    assert _blob(origin.path, "M/v1:models/M/weights.bin") in _missing(mirror, "refs/tags/M/v1")
    assert not _missing(mirror, "refs/tags/M/v3") & {_blob(origin.path, "M/v3:models/M/weights.bin")}
