"""Processes sharing one mirror (one cache directory) never see its refs go
back: a fetch that listed the remote before another process's push landed
does not take ``main`` back behind that push, so a writer always reads its
own write and a reader never loses what it saw. Real processes, a real bare
remote."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers.gitcli import git

from gitreg.store.remote import MirrorStore
from gitreg.store.repo import GitStore

_MAIN = "refs/heads/main"

# Each process alternates: land a commit on main (re-planning on a lost race), check the mirror holds
# it or something after it, then fetch a few times (a fetch may fail on a ref another process holds
# locked, which a reader tolerates), checking every value is at or after the last seen.
_WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from gitreg.errors import GitError
    from gitreg.store.remote import MirrorStore
    from gitreg.store.repo import RefConflict, RefUpdate

    mirror, url, me, rounds = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = MirrorStore(mirror, url)
    main = "refs/heads/main"
    seen = store.ref(main)

    def fetch():
        try:
            store.fetch()
        except GitError:
            pass  # a ref locked by a process sharing the mirror: a reader carries on, as gitreg's does

    def check(now, why):
        global seen
        if now != seen and not store.is_ancestor(seen, now):
            sys.exit(f"{me}: main went back from {seen} to {now} ({why})")
        seen = now

    for i in range(rounds):
        while True:
            old = store.ref(main)
            new = store.write_commit(store.commit_tree(old), [old], f"{me} {i}")
            try:
                store.update_refs([RefUpdate(main, new, old)])
                break
            except RefConflict:
                fetch()
        now = store.ref(main)
        if now != new and not store.is_ancestor(new, now):
            sys.exit(f"{me}: its own push {new} is not in main {now}")
        check(now, "after its own push")
        for _ in range(3):
            fetch()
            check(store.ref(main), "after a fetch")
    """
)


@pytest.fixture
def shared(tmp_path: Path) -> tuple[Path, str]:
    """A bare remote with one commit on main, and a mirror of it."""
    remote = tmp_path / "remote.git"
    GitStore.init(remote, bare=True).close()
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(remote), str(work))
    git(work, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "--quiet", "--allow-empty", "-m", "root")
    git(work, "push", "--quiet", "origin", "HEAD:main")
    url = f"file://{remote}"
    mirror = MirrorStore.open_mirror(tmp_path / "cache", url)
    path = mirror.git_dir
    mirror.close()
    return path, url


@pytest.mark.slow
def test_processes_sharing_a_mirror_never_see_main_go_back(shared: tuple[Path, str]) -> None:
    mirror, url = shared
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(mirror), url, f"w{i}", "12"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(6)
    ]
    errors = []
    for p in procs:
        _, err = p.communicate(timeout=240)
        if p.returncode != 0:
            errors.append(err.strip().splitlines()[-1] if err.strip() else f"exit {p.returncode}")
    assert errors == []
    store = GitStore(mirror)
    assert len(git(mirror, "rev-list", _MAIN).split()) == 1 + 6 * 12  # every push landed once
    store.close()


def test_a_fetch_waits_for_a_push_being_recorded_in_the_mirror(shared: tuple[Path, str]) -> None:
    """The ref lock is what serialises them: held here, a fetch elsewhere does not start."""
    mirror, url = shared
    store = MirrorStore(mirror, url)
    with store.refs_locked():
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from gitreg.store.remote import MirrorStore; "
                "MirrorStore(__import__('pathlib').Path(sys.argv[1]), sys.argv[2]).fetch()",
                str(mirror),
                url,
            ],
        )
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
    assert proc.wait(timeout=60) == 0
    store.close()
