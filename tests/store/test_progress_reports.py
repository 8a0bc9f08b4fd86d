"""The library reports progress and never draws it: registering a file
reports writing it (hashed in the same pass), materialising a version
reports its artifacts, verifying a cache entry in full reports hashing it,
each task ends with a finished update, and outside ``progress.reporting``
no one is called."""

from __future__ import annotations

import os
from pathlib import Path

from gitreg.cache import materialize
from gitreg.registry import Registry
from gitreg.store import progress
from gitreg.testing import file_package

SIZE = 3 << 20  # three chunks


def _tasks(updates: list[progress.Update]) -> list[tuple[str, str, int | None]]:
    return [(u.kind, u.label, u.total) for u in updates if u.finished]


def test_registering_and_materialising_report_each_big_file(bare_registry: Registry, tmp_path: Path) -> None:
    package = file_package(tmp_path / "pkg", {"weights.bin": os.urandom(SIZE)})
    updates: list[progress.Update] = []
    with progress.reporting(updates.append):
        assert progress.listening()
        mv = bare_registry.register("M", package)
        ref = bare_registry.version_ref("M", mv.version)
        materialize(bare_registry.store, ref.tree, ref.manifest, "M")
    assert not progress.listening()
    assert _tasks(updates) == [(progress.WRITE, "weights.bin", SIZE), (progress.MATERIALISE, "weights.bin", SIZE)]
    writing = [u.done for u in updates if u.kind == progress.WRITE and not u.finished]
    assert writing == [1 << 20, 2 << 20, 3 << 20]


def test_verifying_a_cached_version_reports_hashing_it(bare_registry: Registry, tmp_path: Path) -> None:
    mv = bare_registry.register("M", file_package(tmp_path / "pkg", {"weights.bin": os.urandom(SIZE)}))
    ref = bare_registry.version_ref("M", mv.version)
    materialize(bare_registry.store, ref.tree, ref.manifest, "M")
    updates: list[progress.Update] = []
    with progress.reporting(updates.append):
        materialize(bare_registry.store, ref.tree, ref.manifest, "M")
        assert updates == []  # the cheap check reads no bytes
        materialize(bare_registry.store, ref.tree, ref.manifest, "M", verify=True)
    assert _tasks(updates) == [(progress.HASH, "weights.bin", SIZE)]


def test_a_task_that_fails_is_still_finished() -> None:
    updates: list[progress.Update] = []
    with progress.reporting(updates.append):
        try:
            with progress.task(progress.FETCH, "origin", None) as task:
                task.advance(10)
                raise OSError("network down")
        except OSError:
            pass
    assert updates[-1] == progress.Update(progress.FETCH, "origin", 10, None, finished=True)
