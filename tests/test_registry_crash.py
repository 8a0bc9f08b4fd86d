"""A writer killed with SIGKILL at random points never leaves a broken
registry: after each kill every invariant holds, the next registration
succeeds, and a lock left behind is cleared once provably stale or reported
with the command that clears it."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest
from helpers.invariants import check_registry, fsck_problems, worktree_problems

from gitreg.check import check_registry as gitreg_check
from gitreg.registry import Package, Registry

TARGET = 200  # registrations attempted by killed writers, in total
BUDGET = 110.0  # seconds; past MIN_KILLS the loop stops early rather than run the suite long
MIN_KILLS = 20  # however loaded the machine


def leftover_locks(git_dir: Path) -> list[Path]:
    return sorted(p for p in git_dir.rglob("*.lock") if p.name not in ("gitreg-sync.lock", "gitreg-unlock.lock"))


def kill_a_writer(registry: Path, source: Path, rng: random.Random) -> int:
    """Fork a writer registering in a loop (in its own process group, so its
    git children die with it), SIGKILL the group after 0-50 ms of work and
    return how many registrations it reported done."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer
        try:
            os.setsid()
            os.close(read_end)
            reg = Registry.open(registry)
            os.write(write_end, b"ready\n")
            for i in range(1000):
                (source / "model.pkl").write_bytes(f"{os.getpid()} {i}".encode())
                reg.register("m", Package(source, ("model.pkl",), "python_function"))
                os.write(write_end, b"ok\n")
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert pipe.readline() == b"ready\n"
        time.sleep(rng.uniform(0, 0.05))
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return pipe.read().count(b"ok")


@pytest.mark.slow
def test_writer_killed_at_random_points_leaves_a_sound_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GITREG_STALE_LOCK_SECONDS", "1")
    reg = Registry.init(tmp_path / "reg")
    source = tmp_path / "src"
    source.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    rng = random.Random(5)
    kills = attempted = cleared = reported = 0
    start = time.monotonic()
    while attempted < TARGET and (kills < MIN_KILLS or time.monotonic() - start < BUDGET):
        attempted += 1 + kill_a_writer(reg.path, work, rng)
        kills += 1
        left = leftover_locks(reg.store.git_dir)
        assert fsck_problems(reg.path) == []
        assert check_registry(reg.path, fsck=False, recent=2) == [], leftover_locks(reg.store.git_dir)
        if kills % 10 == 0:
            assert gitreg_check(reg.store, fetch=False) == []
        (source / "model.pkl").write_bytes(f"after kill {kills}".encode())
        before = len(reg.version_numbers("m")) if "m" in reg.model_names() else 0
        mv = reg.register("m", Package(source, ("model.pkl",), "python_function"))
        assert len(reg.version_numbers("m")) == before + 1 and mv.version == reg.latest_ref("m").version
        for warning in reg.warnings:
            assert "index.lock" in warning and "rm -f" in warning, warning
            reported += 1
        reg.warnings.clear()
        cleared += sum(1 for lock in left if not lock.exists())
    print(f"{kills} kills, {attempted} registrations attempted, {time.monotonic() - start:.0f} s")
    time.sleep(1.1)  # let any lock left by the last kill become provably stale
    reg.register("m", Package(source, ("model.pkl",), "python_function"))
    assert reg.warnings == []
    assert check_registry(reg.path) == []
    assert gitreg_check(reg.store, fetch=False) == []
    assert worktree_problems(reg.path) == []
    assert leftover_locks(reg.store.git_dir) == []
    numbers = reg.version_numbers("m")
    assert numbers == list(range(1, len(numbers) + 1))
    print(
        f"{kills} kills, {attempted} registrations attempted, {len(numbers)} versions, "
        f"{cleared} stale locks cleared, {reported} reported, {time.monotonic() - start:.0f} s"
    )
