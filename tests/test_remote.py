"""A registry named by a git URL: mirror, fetch on demand, leased pushes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers.gitcli import refs

import gitreg
from gitreg import locate
from gitreg.errors import GitError, NotFoundError
from gitreg.registry import Package, Registry
from gitreg.remote import RemoteRegistry
from gitreg.testing import run_cli
from gitreg.uri import parse


def _package(root: Path, payload: bytes) -> Package:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.bin").write_bytes(payload)
    return Package(root=root, files=("data.bin",), flavor="python_function")


@pytest.fixture
def remote(bare_registry: Registry) -> str:
    return f"file://{bare_registry.path}"


def test_url_registry_writes_reach_the_remote(remote: str, bare_registry: Registry, tmp_path: Path) -> None:
    reg = locate.open_registry(remote)
    assert isinstance(reg, RemoteRegistry)
    reg.register("M", _package(tmp_path / "p1", b"one"))
    reg.register("M", _package(tmp_path / "p2", b"two"))
    reg.promote("M", 1, "Production")
    reg.update_version("M", 2, description="second")
    origin = Registry.open(bare_registry.path)
    assert origin.version_numbers("M") == [1, 2]
    assert origin.stages_of("M") == {"production": 1}
    assert origin.get_version("M", 2).description == "second"
    origin.close()


def test_refused_write_on_remote_changes_nothing(remote: str, bare_registry: Registry, tmp_path: Path) -> None:
    reg = locate.open_registry(remote)
    reg.register("M", _package(tmp_path / "p1", b"one"))
    before_remote, before_mirror = refs(bare_registry.path), refs(reg.store.git_dir)
    with pytest.raises(NotFoundError):
        reg.promote("M", 7, "Production")
    with pytest.raises(NotFoundError):
        reg.register("Other", _package(tmp_path / "p2", b"two"), create=False)
    assert refs(bare_registry.path) == before_remote
    assert refs(reg.store.git_dir) == before_mirror


def test_stale_mirror_replans_on_new_remote_head(remote: str, bare_registry: Registry, tmp_path: Path) -> None:
    reg = locate.open_registry(remote)
    reg.register("M", _package(tmp_path / "p1", b"one"))
    # someone else registers straight into the remote; our mirror does not know
    bare_registry.register("M", _package(tmp_path / "p2", b"two"))
    reg._fetched_at = float("inf")  # pretend we just fetched: our first push must be refused
    mv = reg.register("M", _package(tmp_path / "p3", b"three"))
    assert mv.version == 3
    origin = Registry.open(bare_registry.path)
    assert origin.version_numbers("M") == [1, 2, 3]
    assert origin.record("M").next_version == 4
    origin.close()


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from gitreg.locate import open_registry
    from gitreg.registry import Package

    url, work, tag, count = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    reg = open_registry(url)
    for i in range(count):
        root = work / f"{tag}-{i}"
        root.mkdir(parents=True)
        (root / "data.bin").write_bytes(f"{tag} {i}".encode())
        mv = reg.register("Shared", Package(root=root, files=("data.bin",), flavor="python_function"))
        print(mv.version, flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(("writers", "count", "mirrors"), [(4, 3, 2), (16, 2, 4)])
def test_concurrent_writers_on_one_remote_get_distinct_versions(
    remote: str, bare_registry: Registry, tmp_path: Path, env: dict[str, str], writers: int, count: int, mirrors: int
) -> None:
    """Processes, some sharing a mirror and some not, race to register to one
    bare remote: versions are distinct and gap-free, every one keeps its tag
    and payload, and the remote passes git fsck --strict and gitreg check."""
    from gitreg.check import check_registry

    procs = []
    for i in range(writers):
        penv = {**env, "GITREG_CACHE_DIR": str(tmp_path / f"cache{i % mirrors}")}
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _WRITER, remote, str(tmp_path / "work"), f"w{i}", str(count)],
                env=penv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    got = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        got += [int(v) for v in out.split()]
    total = writers * count
    assert sorted(got) == list(range(1, total + 1))
    origin = Registry.open(bare_registry.path)
    assert origin.version_numbers("Shared") == list(range(1, total + 1))
    assert origin.record("Shared").next_version == total + 1
    payloads = set()
    for v in range(1, total + 1):
        ref = origin.version_ref("Shared", v)
        payloads.add(origin.store.read_blob(f"{ref.tree}:data.bin"))
    assert len(payloads) == total  # nothing lost, nothing duplicated
    fsck = subprocess.run(
        ["git", "-C", str(bare_registry.path), "fsck", "--strict", "--no-dangling"], capture_output=True
    )
    assert fsck.returncode == 0, fsck.stderr
    assert check_registry(origin.store) == []
    origin.close()


_PROMOTER = textwrap.dedent(
    """
    import sys
    from gitreg.locate import open_registry

    url, names = sys.argv[1], sys.argv[2:]
    reg = open_registry(url)
    for name in names:
        reg.promote(name, 1, "Production")
    """
)


@pytest.mark.slow
def test_concurrent_promotions_to_one_stage_all_survive(
    remote: str, bare_registry: Registry, tmp_path: Path, env: dict[str, str]
) -> None:
    names = [f"M{i}" for i in range(6)]
    for i, name in enumerate(names):
        bare_registry.register(name, _package(tmp_path / f"p{i}", name.encode()))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PROMOTER, remote, *names[k::2]],
            env={**env, "GITREG_CACHE_DIR": str(tmp_path / f"cache{k}")},
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    for name in names:
        assert bare_registry.stages_of(name) == {"production": 1}


def test_version_uri_in_mirror_fetches_nothing_and_moving_uri_warns_when_offline(
    remote: str, bare_registry: Registry, tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from gitreg.pyfunc import materialized

    reg = locate.open_registry(remote)
    reg.register("M", _package(tmp_path / "p1", b"one"))
    reg.promote("M", 1, "Staging")
    moved = tmp_path / "moved.git"
    os.rename(bare_registry.path, moved)  # the remote is now unreachable
    reg.close()
    locate._open.clear()  # a new process's view: the mirror exists, nothing fetched yet
    capsys.readouterr()
    assert (materialized(parse("models:/M/1"), remote) / "data.bin").read_bytes() == b"one"
    assert capsys.readouterr().err == ""  # nothing was fetched, so nothing could fail
    staged = run_cli("-r", remote, "show", "models:/M/Staging", "--json", env=env)
    assert staged.returncode == 0, staged.stderr
    assert staged.stderr.count("\n") == 1 and "warning:" in staged.stderr and "mirror" in staged.stderr
    assert '"version": 1' in staged.stdout


def test_write_to_unreachable_remote_is_refused_and_changes_nothing(
    remote: str, bare_registry: Registry, tmp_path: Path
) -> None:
    reg = locate.open_registry(remote)
    reg.register("M", _package(tmp_path / "p1", b"one"))
    mirror_before = refs(reg.store.git_dir)
    moved = tmp_path / "moved.git"
    os.rename(bare_registry.path, moved)
    with pytest.raises(GitError, match="Nothing was written"):
        reg.register("M", _package(tmp_path / "p2", b"two"))
    assert refs(reg.store.git_dir) == mirror_before
    assert refs(moved) == mirror_before


def test_stage_uri_sees_remote_promotion_after_freshness_window(
    remote: str, bare_registry: Registry, tmp_path: Path
) -> None:
    reg = locate.open_registry(remote)
    reg.register("M", _package(tmp_path / "p1", b"one"))
    reg.register("M", _package(tmp_path / "p2", b"two"))
    bare_registry.promote("M", 2, "Production")
    reg._fetched_at = float("-inf")  # the freshness window has passed
    assert reg.resolve(parse("models:/M/Production")).version == 2


def test_load_model_from_url(remote: str, bare_registry: Registry, saved_model: Path) -> None:
    gitreg.register_model(str(saved_model), "Seed", registry=remote)
    model = gitreg.pyfunc.load_model("models:/Seed/1", registry=remote)
    assert list(model.predict([[2.0]])) in ([1], [0])


def test_url_that_is_not_a_registry_is_refused_naming_the_url(tmp_path: Path) -> None:
    plain = tmp_path / "plain.git"
    subprocess.run(["git", "init", "-q", "--bare", str(plain)], check=True)
    with pytest.raises(NotFoundError, match="not a gitreg registry"):
        locate.open_registry(f"file://{plain}")


def test_unreachable_url_without_mirror_is_a_one_line_cli_error(tmp_path: Path, env: dict[str, str]) -> None:
    done = run_cli("-r", f"file://{tmp_path}/missing.git", "models", env=env)
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1
    assert "no local mirror" in done.stderr or "could not reach" in done.stderr


def test_push_refused_for_good_is_not_retried_and_changes_nothing(registry: Registry, tmp_path: Path) -> None:
    """A registry with a work tree refuses pushes to its checked-out main: a
    refusal that re-planning cannot fix, so it surfaces at once."""
    before = refs(registry.store.git_dir)
    url_registry = locate.open_registry(f"file://{registry.path}")
    with pytest.raises(GitError, match="currently checked out"):
        url_registry.register("M", _package(tmp_path / "p1", b"one"))
    assert refs(registry.store.git_dir) == before
    assert refs(url_registry.store.git_dir) == before
