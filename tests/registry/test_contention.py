"""Many writers through one remote: every call lands, versions stay gap-free,
and a lost race costs only what re-planning needs (the refs the write named,
fetched after a pause; nothing re-fetched after a push that landed)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from helpers.gitcli import git

from gitreg import locate
from gitreg.check import check_registry
from gitreg.registry import Package, Registry
from gitreg.registry.writer import RetryPolicy
from gitreg.remote import RemoteRegistry


def _package(root: Path, payload: bytes) -> Package:
    root.mkdir(parents=True, exist_ok=True)
    (root / "model.bin").write_bytes(payload)
    return Package(root=root, files=("model.bin",), flavor="python_function")


_WRITER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from gitreg.locate import open_registry
    from gitreg.registry import Package

    url, work, tag, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    reg = open_registry(url)
    got = []
    for i in range(count):
        root = work / f"{tag}-{i}"
        root.mkdir(parents=True)
        (root / "model.bin").write_bytes(f"{tag} {i}".encode())
        got.append(reg.register("Shared", Package(root, ("model.bin",), "python_function")).version)
    print(json.dumps({"versions": got, "warnings": reg.warnings}))
    """
)


def test_eight_writers_through_one_remote_all_succeed_with_gap_free_versions(
    bare_registry: Registry, tmp_path: Path, env: dict[str, str]
) -> None:
    """Eight processes, each with its own mirror, register to one bare remote at
    once: every call returns a version, the versions are 1..N with no gap and
    no repeat, each keeps its own payload, and the remote passes gitreg check."""
    writers, count = 8, 3
    url = f"file://{bare_registry.path}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, url, str(tmp_path / "work"), f"w{i}", str(count)],
            env={**env, "GITREG_CACHE_DIR": str(tmp_path / f"cache-{i}")},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(writers)
    ]
    got: list[int] = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        answer = json.loads(out.strip().splitlines()[-1])
        assert answer["warnings"] == []
        got += answer["versions"]
    total = writers * count
    assert sorted(got) == list(range(1, total + 1))
    origin = Registry.open(bare_registry.path)
    assert origin.version_numbers("Shared") == list(range(1, total + 1))
    assert origin.record("Shared").next_version == total + 1
    payloads = {origin.store.read_blob(f"{origin.version_ref('Shared', v).tree}:model.bin") for v in got}
    assert len(payloads) == total
    assert check_registry(origin.store) == []
    origin.close()


def test_a_landed_push_is_recorded_in_the_mirror_without_fetching_again(
    bare_registry: Registry, tmp_path: Path
) -> None:
    reg = locate.open_registry(f"file://{bare_registry.path}")
    assert isinstance(reg, RemoteRegistry)
    reg.register("M", _package(tmp_path / "p1", b"one"))
    fetch_head = reg.store.git_dir / "FETCH_HEAD"
    before = fetch_head.stat().st_mtime_ns

    mv = reg.register("M", _package(tmp_path / "p2", b"two"))

    assert fetch_head.stat().st_mtime_ns == before  # no fetch: the push itself moved the mirror's refs
    assert reg.store.ref("refs/heads/main") == Registry.open(bare_registry.path).store.ref("refs/heads/main")
    assert reg.store.ref(f"refs/tags/M/v{mv.version}") is not None


def test_a_lost_race_fetches_only_the_refs_the_write_needs(bare_registry: Registry, tmp_path: Path) -> None:
    """Another writer registers M and Other and promotes Other straight into the
    remote; our mirror, fetched just before, plans M's version on the old main
    and loses. It plans again on main and M's tags as fetched after the pause,
    lands version 3, and has not fetched Other's new tag nor the stage branch."""
    bare_registry.register("M", _package(tmp_path / "a", b"m1"))
    bare_registry.register("Other", _package(tmp_path / "b", b"o1"))
    reg = locate.open_registry(f"file://{bare_registry.path}")
    assert isinstance(reg, RemoteRegistry)
    bare_registry.register("M", _package(tmp_path / "c", b"m2"))
    bare_registry.register("Other", _package(tmp_path / "d", b"o2"))
    bare_registry.promote("Other", 2, "Production")
    reg._fetched_at = float("inf")  # our view is "fresh": the first push must be refused

    mv = reg.register("M", _package(tmp_path / "e", b"m3"))

    assert mv.version == 3
    mirror = set(git(reg.store.git_dir, "for-each-ref", "--format=%(refname)", check=False).split())
    assert {"refs/tags/M/v2", "refs/tags/M/v3"} <= mirror
    assert "refs/tags/Other/v2" not in mirror
    assert "refs/heads/stages/production" not in mirror
    origin = Registry.open(bare_registry.path)
    assert origin.version_numbers("M") == [1, 2, 3]
    assert origin.version_numbers("Other") == [1, 2]
    origin.close()


def test_back_off_grows_with_the_races_lost_in_a_row_in_attempt_lengths_up_to_the_spread() -> None:
    policy = RetryPolicy(spread=8)
    for lost, lengths in [(1, 1), (2, 2), (5, 5), (8, 8), (20, 8)]:
        waits = [policy.backoff(lost, 0.1) for _ in range(200)]
        assert all(0.05 * lengths <= w <= 0.15 * lengths for w in waits), (lost, min(waits), max(waits))
        assert max(waits) - min(waits) > 0.05 * lengths  # jittered, not one value
    assert policy.backoff(1, 0.0) >= policy.first_delay / 2  # a failure faster than the clock still waits
