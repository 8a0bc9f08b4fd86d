"""Temporary object files a killed writer leaves in ``objects/`` are removed
by the next process that writes, once provably stale; a live writer's never."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers.invariants import fsck_problems

from gitreg.registry import Registry
from gitreg.store import locks
from gitreg.store.objects import remove_stale_temp_files

GITREG = str(Path(sys.executable).with_name("gitreg"))
OLD = time.time() - 3600


def _gitreg(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GITREG, *args], capture_output=True, text=True, env=env, timeout=120)


def _temps(reg: Registry) -> list[Path]:
    return sorted((reg.path / ".git" / "objects").glob("tmp_obj_*"))


def test_the_first_write_of_a_process_removes_stale_temp_objects_and_keeps_fresh_ones(
    tmp_path: Path, saved_model: Path, env: dict[str, str]
) -> None:
    reg = Registry.init(tmp_path / "registry")
    objects = reg.path / ".git" / "objects"
    stale, fresh = objects / "tmp_obj_killed", objects / "tmp_obj_inflight"
    stale.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"y" * 1000)
    os.utime(stale, (OLD, OLD))
    proc = _gitreg("-r", str(reg.path), "register", "M", str(saved_model), env=env)
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists() and fresh.exists()


def test_a_temp_object_open_in_a_live_process_is_kept_however_old(tmp_path: Path) -> None:
    reg = Registry.init(tmp_path / "registry")
    objects = reg.path / ".git" / "objects"
    held = objects / "tmp_obj_held"
    held.write_bytes(b"z")
    os.utime(held, (OLD, OLD))
    holder = subprocess.Popen(["sleep", "30"], stdin=open(held, "rb"))  # noqa: SIM115  # the child holds it open
    try:
        time.sleep(0.2)
        assert remove_stale_temp_files(objects, ("tmp_obj_",), objects.parent) == 0
        assert held.exists()
    finally:
        holder.kill()
        holder.wait()
    assert remove_stale_temp_files(objects, ("tmp_obj_",), objects.parent) == 1
    assert not held.exists()


def test_a_big_registration_killed_mid_write_leaves_a_temp_file_the_next_write_removes(
    tmp_path: Path, saved_model: Path, env: dict[str, str]
) -> None:
    reg = Registry.init(tmp_path / "registry")
    # a plain blob, not Git LFS: the registry's threshold is lifted, and the file stays under the
    # 100 MB that always goes to LFS
    config = reg.path / "registry.yaml"
    config.write_text(
        "".join(line for line in config.read_text().splitlines(True) if "lfs" not in line and "threshold" not in line)
    )
    subprocess.run(["git", "-C", str(reg.path), "commit", "-q", "-am", "no LFS"], check=True, env=env)
    before = reg.store.git("for-each-ref").decode()
    big = tmp_path / "big"
    shutil.copytree(saved_model, big)
    with open(big / "weights.bin", "wb") as fh:
        for _ in range(90):
            fh.write(os.urandom(1 << 20))  # 90 MiB that does not compress: seconds of writing
    writer = subprocess.Popen([GITREG, "-r", str(reg.path), "register", "M", str(big)], env=env)
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size > (1 << 20) for p in _temps(reg) if p.exists()):
        assert writer.poll() is None and time.monotonic() < deadline, "the registration ended before it was killed"
        time.sleep(0.01)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    [left] = _temps(reg)
    assert reg.store.git("for-each-ref").decode() == before  # nothing registered

    # the next process sweeps it only once it is older than the lock rule's stale age
    young = _gitreg("-r", str(reg.path), "register", "Small", str(saved_model), env=env)
    assert young.returncode == 0 and left.exists()
    os.utime(left, (OLD, OLD))
    assert time.time() - left.stat().st_mtime > locks.stale_after()
    again = _gitreg("-r", str(reg.path), "register", "Small", str(saved_model), env=env)
    assert again.returncode == 0, again.stderr
    assert _temps(reg) == [] and fsck_problems(reg.path) == []
