"""Every kind of write, killed with SIGKILL at random points, leaves a sound
registry: the invariants hold (allowing only what a killed tidy-up leaves,
which readers ignore), ``gitreg check`` reports nothing a crash could not
leave, ``git fsck --strict`` is clean, the next write of the same kind
succeeds, and a work tree is clean and at main after it."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from helpers.invariants import check_registry, fsck_problems, worktree_problems

from gitreg.check import Finding
from gitreg.check import check_registry as gitreg_check
from gitreg.errors import IntegrityError
from gitreg.registry import Package, Registry
from gitreg.store import RefUpdate

pytestmark = pytest.mark.slow

ROUNDS = 14  # kills per kind of write and registry, at most
BUDGET = 28.0  # seconds per registry; past MIN_ROUNDS the loop stops early rather than run the suite long
MIN_ROUNDS = 3  # kills per kind of write and registry, at least, however loaded the machine


class Source:
    """Packages with distinct content, written to a directory of this process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0

    def package(self) -> Package:
        self.root.mkdir(parents=True, exist_ok=True)
        self.count += 1
        (self.root / "model.pkl").write_bytes(f"{os.getpid()} {self.count} {time.time_ns()}".encode())
        return Package(self.root, ("model.pkl",), "python_function")


def _live(reg: Registry, name: str) -> list[int]:
    return reg.version_numbers(name) if name in reg.model_names() else []


def _ensure_versions(reg: Registry, src: Source, name: str, count: int) -> list[int]:
    while len(_live(reg, name)) < count:
        reg.register(name, src.package())
    return _live(reg, name)


def _current_rename_model(reg: Registry) -> str:
    names = [n for n in reg.model_names() if n.startswith("ren-")]
    assert len(names) == 1, names  # a rename is all or nothing: the model has exactly one name
    return names[0]


def prepare(reg: Registry, kind: str, src: Source) -> None:
    """Give the write of ``kind`` something to do (stages to leave, versions to delete, models to drop)."""
    if kind == "rename" and not any(n.startswith("ren-") for n in reg.model_names()):
        for _ in range(3):
            reg.register("ren-0", src.package())
        reg.promote("ren-0", 1, "Staging")
        reg.promote("ren-0", 2, "Production")
        reg.set_alias("ren-0", "champion", 3)
    elif kind == "delete_version":
        live = _ensure_versions(reg, src, "del", 4)
        held = reg.stages_of("del")
        if "production" not in held:
            reg.promote("del", live[-1], "Production", archive_existing=True)
        if "champion" not in held:
            reg.set_alias("del", "champion", live[-2])
        if "staging" not in held:
            reg.promote("del", live[0], "Staging")
    elif kind == "delete_model":
        while len([n for n in reg.model_names() if n.startswith("dm-")]) < 3:
            name = f"dm-{src.count}"
            reg.register(name, src.package())
            reg.register(name, src.package())
            reg.promote(name, 2, "Production")
            reg.set_alias(name, "champion", 1)
    elif kind in ("promote", "set_alias", "demote"):
        _ensure_versions(reg, src, "pro", 4)
    elif kind == "mixed":
        _ensure_versions(reg, src, "mix", 2)


def write_once(reg: Registry, kind: str, src: Source, rng: random.Random) -> str:
    """One write of ``kind``, chosen on the registry's current state; returns what it did."""
    if kind == "rename":
        reg.rename_model(_current_rename_model(reg), f"ren-{os.getpid()}-{src.count}-{rng.randrange(10**9)}")
        src.count += 1
        return "rename"
    if kind == "delete_version":
        live, held = _live(reg, "del"), reg.stages_of("del")
        reg.delete_version("del", rng.choice(sorted(set(held.values())) or live))
        return "delete_version"
    if kind == "delete_model":
        reg.delete_model(rng.choice([n for n in reg.model_names() if n.startswith("dm-")]))
        return "delete_model"
    live = _live(reg, "pro")
    if kind == "promote":
        stage = rng.choice(["Staging", "Production", "Archived"])
        reg.promote("pro", rng.choice(live), stage, archive_existing=True, exclusive_fixed=True)
        return "promote"
    if kind == "set_alias":
        reg.set_alias("pro", rng.choice(["champion", "challenger"]), rng.choice(live))
        return "set_alias"
    if kind == "demote":
        what = rng.choice(["promote", "demote", "demote_version"])
        if what == "promote":
            target = rng.choice(["Staging", "Production", "champion"])
            if target == "champion":
                reg.set_alias("pro", target, rng.choice(live))
            else:
                reg.promote("pro", rng.choice(live), target)
        elif what == "demote":
            reg.demote("pro", rng.choice(["Staging", "Production", "champion"]))
        else:
            reg.demote_version("pro", rng.choice(live))
        return what
    live = _live(reg, "mix")
    what = rng.choice(["register", "register", "promote", "demote", "delete_version", "set_alias"])
    if what == "register" or len(live) < 2:
        reg.register("mix", src.package())
        return "register"
    if what == "promote":
        reg.promote("mix", rng.choice(live), rng.choice(["Staging", "Production"]), archive_existing=True)
    elif what == "demote":
        reg.demote("mix", rng.choice(["Staging", "Production", "Archived", "champion"]))
    elif what == "delete_version":
        reg.delete_version("mix", rng.choice(live))
    else:
        reg.set_alias("mix", "champion", rng.choice(live))
    return what


def kill_a_writer(path: Path, kind: str, src_root: Path, seed: int, delay: float) -> int:
    """Fork a writer doing writes of ``kind`` in a loop (in its own process
    group, so its git children die with it), SIGKILL the group ``delay``
    seconds after it opened the registry, and return how many writes it
    reported done."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer
        try:
            os.setsid()
            os.close(read_end)
            reg = Registry.open(path)
            rng, src = random.Random(seed), Source(src_root)
            os.write(write_end, b"ready\n")
            for _ in range(1000):
                write_once(reg, kind, src, rng)
                os.write(write_end, b"ok\n")
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert pipe.readline() == b"ready\n"
        time.sleep(delay)
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return pipe.read().count(b"ok")


def reflog_names_an_unreached_main(reg: Registry) -> bool:
    """Whether main's reflog ends in an entry main never got to: git writes a ref's reflog entry
    *before* renaming its lock into place, so a process killed between the two leaves the entry
    with the ref unmoved (see test_a_registration_killed_after_gits_reflog_write_blocks_the_model)."""
    log = reg.store.git_dir / "logs" / "refs" / "heads" / "main"
    lines = log.read_bytes().splitlines() if log.exists() else []
    return bool(lines) and lines[-1].split()[1].decode() != reg.store.ref("refs/heads/main")


def next_write_succeeds(reg: Registry, kind: str, src: Source, rng: random.Random, figures: Counter[str]) -> None:
    if reflog_names_an_unreached_main(reg):
        figures["kills in git's reflog-before-rename window"] += 1
    write_once(reg, kind, src, rng)


def crash_findings(reg: Registry) -> list[Finding]:
    """``gitreg check``'s findings, less those a killed write legitimately leaves: a stage entry no
    reader uses (``stage-stale``: a deleted version, a deleted model's, a killed rename's new
    name whose record main never got)."""
    return [f for f in gitreg_check(reg.store, fetch=False) if f.rule != "stage-stale"]


def after_write_worktree_is_clean(reg: Registry, main_before: str | None, figures: Counter[str]) -> None:
    """The write that just succeeded left the work tree at main if it moved main, or said why
    not (a lock the kill left, not yet provably stale): then, once it is, the next write to
    main does. A write that did not move main (a stage move) is followed by one that does."""
    lock_warnings = [w for w in reg.warnings if "index.lock" in w]
    assert not [w for w in reg.warnings if "index.lock" not in w], reg.warnings
    reg.warnings.clear()
    if lock_warnings or reg.store.ref("refs/heads/main") == main_before:
        if lock_warnings:
            figures["index locks reported"] += 1
            time.sleep(0.6)
        reg.set_model_tag(reg.model_names()[0], "touched", str(time.time_ns()))
        assert reg.warnings == []
    assert worktree_problems(reg.path) == []


@pytest.mark.parametrize("layout", ["bare", "worktree"])
def test_every_kind_of_write_killed_at_random_points_leaves_a_sound_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    monkeypatch.setenv("GITREG_STALE_LOCK_SECONDS", "0.5")
    reg = Registry.init(tmp_path / "reg", bare=layout == "bare")
    src = Source(tmp_path / "src")
    kinds = ["rename", "delete_version", "delete_model", "promote", "set_alias", "demote", "mixed"]
    rng = random.Random(f"crash-{layout}")
    figures: Counter[str] = Counter()
    start = time.monotonic()
    for round_ in range(ROUNDS):
        if round_ >= MIN_ROUNDS and time.monotonic() - start > BUDGET:
            break
        for kind in kinds:
            prepare(reg, kind, src)
            done = kill_a_writer(
                reg.path, kind, tmp_path / f"child-src-{kind}", rng.randrange(10**9), rng.uniform(0, 0.04)
            )
            figures["kills"] += 1
            figures[f"kills {kind}"] += 1
            figures["writes completed by killed writers"] += done

            assert fsck_problems(reg.path) == []
            assert check_registry(reg.path, fsck=False, recent=3, settled=False) == []
            if any("is left over" in p for p in check_registry(reg.path, fsck=False, recent=1, settled=True)):
                figures["kills leaving stage entries for a tidy-up"] += 1
            if round_ % 3 == 0 or kind == "rename":
                assert crash_findings(reg) == []

            try:
                prepare(reg, kind, src)
            except IntegrityError:
                pytest.fail(
                    f"preparing {kind} after a kill failed; reflog unreached: {reflog_names_an_unreached_main(reg)}"
                )
            main_before = reg.store.ref("refs/heads/main")
            next_write_succeeds(reg, kind, src, rng, figures)
            figures["writes after a kill"] += 1
            if layout == "worktree":
                after_write_worktree_is_clean(reg, main_before, figures)
    figures["rounds"] = round_ + 1
    assert check_registry(reg.path, settled=False) == []
    assert crash_findings(reg) == []
    print(f"{layout}: {dict(figures)} in {time.monotonic() - start:.0f} s")


def test_a_registration_killed_after_gits_reflog_write_is_replaced_like_any_killed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's files backend appends a ref's reflog entry before it renames ``main.lock`` over
    ``main``; SIGKILL between the two leaves the tag of version 3 and a reflog entry naming its
    commit, with main unmoved. The next registration replaces the leftover tag, as for any
    killed registration: only a value main moved away from counts as one it held."""
    monkeypatch.setenv("GITREG_STALE_LOCK_SECONDS", "0.5")
    reg = Registry.init(tmp_path / "reg", bare=True)
    src = Source(tmp_path / "src")
    reg.register("M", src.package())
    reg.register("M", src.package())
    store, head = reg.store, reg.store.ref("refs/heads/main")
    assert head is not None
    commit = store.write_commit(store.commit_tree(head), [head], "Register M version 3")
    store.update_refs([RefUpdate("refs/tags/M/v3", store.write_tag(commit, "M/v3", "Register M version 3"), None)])
    with open(store.git_dir / "logs" / "refs" / "heads" / "main", "a") as log:
        log.write(f"{head} {commit} A U Thor <author@example.com> {int(time.time()) - 5} +0000\tRegister M 3\n")
    time.sleep(2.1)  # the leftover tag is old enough to be replaced

    assert reg.register("M", src.package()).version == 3
