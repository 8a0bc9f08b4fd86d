"""A registry's work tree follows main without ever losing a user's
uncommitted edits; when git refuses an update the version is still
registered and the warning says exactly what to run."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from helpers.gitcli import git
from helpers.invariants import worktree_problems

from gitreg.registry import Package, Registry
from gitreg.store import GitStore


def register(reg: Registry, tmp_path: Path, name: str, content: str) -> int:
    src = tmp_path / f"src-{name}"
    src.mkdir(exist_ok=True)
    (src / "model.pkl").write_text(content)
    return reg.register(name, Package(src, ("model.pkl",), "python_function")).version


def test_unstaged_and_staged_edits_to_files_the_update_does_not_touch_are_kept(tmp_path: Path):
    reg = Registry.init(tmp_path / "reg")
    register(reg, tmp_path, "m", "one\n")
    (reg.path / "README.md").write_text("my notes\n")
    (reg.path / "registry.yaml").write_text((reg.path / "registry.yaml").read_text() + "# staged\n")
    git(reg.path, "add", "registry.yaml")
    register(reg, tmp_path, "m", "two\n")
    assert reg.warnings == []
    assert (reg.path / "README.md").read_text() == "my notes\n"
    assert git(reg.path, "status", "--porcelain") == " M README.md\nM  registry.yaml\n"
    assert (reg.path / "models" / "m" / "model.pkl").read_text() == "two\n"


def test_edit_to_a_file_the_next_registration_replaces_is_kept_and_the_warning_says_what_to_run(tmp_path: Path):
    reg = Registry.init(tmp_path / "reg")
    register(reg, tmp_path, "m", "one\n")
    pkl = reg.path / "models" / "m" / "model.pkl"
    pkl.write_text("my edit\n")
    git(reg.path, "add", "models/m/model.pkl")  # staged ...
    (reg.path / "README.md").write_text("unstaged too\n")  # ... and unstaged
    version = register(reg, tmp_path, "m", "two\n")
    assert version == 2 and reg.latest_ref("m").version == 2  # registered regardless
    [warning] = reg.warnings
    assert pkl.read_text() == "my edit\n" and (reg.path / "README.md").read_text() == "unstaged too\n"
    assert "version is registered" in warning and "models/m/model.pkl" in warning
    command = warning.split("run: ", 1)[1]
    subprocess.run(command, shell=True, check=False, capture_output=True)
    # the update is in and the user's edit is re-applied (here as a conflict to resolve)
    assert "my edit" in pkl.read_text() and "two" in pkl.read_text()
    assert (reg.path / "README.md").read_text() == "unstaged too\n"
    git(reg.path, "checkout", "HEAD", "--", "models/m/model.pkl")
    git(reg.path, "checkout", "HEAD", "--", "README.md")
    reg.warnings.clear()
    register(reg, tmp_path, "m", "three\n")
    assert reg.warnings == []
    assert worktree_problems(reg.path) == []
    assert pkl.read_text() == "three\n"


def test_untracked_file_where_a_new_model_lands_is_kept(tmp_path: Path):
    reg = Registry.init(tmp_path / "reg")
    (reg.path / "models" / "n").mkdir(parents=True)
    (reg.path / "models" / "n" / "model.pkl").write_text("mine\n")
    register(reg, tmp_path, "n", "registered\n")
    [warning] = reg.warnings
    assert "untracked" in warning and "read-tree -m -u" in warning
    assert (reg.path / "models" / "n" / "model.pkl").read_text() == "mine\n"
    assert reg.latest_ref("n").version == 1


def test_fresh_index_lock_is_reported_with_the_command_and_a_stale_one_is_cleared(tmp_path: Path, monkeypatch):
    reg = Registry.init(tmp_path / "reg")
    lock = reg.store.git_dir / "index.lock"
    holder = subprocess.Popen(["git", "hash-object", "--stdin"], cwd=reg.path, stdin=subprocess.PIPE)
    try:
        lock.touch()
        os.utime(lock, (time.time() - 3600, time.time() - 3600))
        register(reg, tmp_path, "m", "one\n")  # a live git process in the repository: not provably stale
        [warning] = reg.warnings
        assert f"rm -f {lock}" in warning and "read-tree -m -u" in warning and lock.exists()
    finally:
        holder.communicate(b"")
    reg.warnings.clear()
    register(reg, tmp_path, "m", "two\n")  # an hour old and nobody holds it: removed
    assert reg.warnings == [] and not lock.exists()
    assert worktree_problems(reg.path) == []


def test_stale_ref_lock_is_cleared_and_a_held_one_refused_with_the_command(tmp_path: Path):
    from gitreg.store import RefLocked

    reg = Registry.init(tmp_path / "reg")
    register(reg, tmp_path, "m", "one\n")
    lock = reg.store.git_dir / "refs" / "heads" / "main.lock"
    lock.touch()
    os.utime(lock, (time.time() - 3600, time.time() - 3600))
    holder = subprocess.Popen(["git", "hash-object", "--stdin"], cwd=reg.path, stdin=subprocess.PIPE)
    before = git(reg.path, "for-each-ref")
    try:
        try:
            register(reg, tmp_path, "m", "two\n")
            raise AssertionError("registered through a held lock")
        except RefLocked as exc:
            assert f"rm -f {lock}" in str(exc)
        assert git(reg.path, "for-each-ref") == before
    finally:
        holder.communicate(b"")
    assert register(reg, tmp_path, "m", "two\n") == 2
    assert not lock.exists()


def test_refused_update_with_an_untracked_file_named_with_a_newline_warns_instead_of_crashing(tmp_path: Path):
    reg = Registry.init(tmp_path / "reg")
    register(reg, tmp_path, "m", "one\n")
    (reg.path / "models" / "m" / "model.pkl").write_text("my edit\n")
    (reg.path / "odd\nname").write_text("untracked\n")
    assert register(reg, tmp_path, "m", "two\n") == 2
    [warning] = reg.warnings
    assert "version is registered" in warning
    assert (reg.path / "models" / "m" / "model.pkl").read_text() == "my edit\n"


def test_a_copied_registry_takes_registrations_and_its_work_tree_stays_in_step(tmp_path: Path):
    reg = Registry.init(tmp_path / "reg")
    register(reg, tmp_path, "m", "one\n")
    reg.close()
    time.sleep(1.1)  # the copy's files get new times as well as new inodes
    subprocess.run(["cp", "-r", str(reg.path), str(tmp_path / "copy")], check=True)
    copy = Registry(GitStore.open(tmp_path / "copy"))
    assert register(copy, tmp_path, "m", "two\n") == 2
    assert copy.warnings == []  # the stale stat data is not taken for edits
    assert worktree_problems(copy.path) == []
    assert (copy.path / "models" / "m" / "model.pkl").read_text() == "two\n"
    copy.close()


def test_files_a_killed_checkout_wrote_for_a_commit_main_has_moved_past_are_removed(tmp_path: Path):
    """A writer killed while checking out its rename leaves the new name's files untracked;
    when main has moved on by the next write (renamed again), git's two-way merge from the
    commit before leaves them where they are, since neither tree names them. The next sync
    removes exactly those files: an untracked file of the user's, even beside them, stays."""
    reg = Registry.init(tmp_path / "reg")
    register(reg, tmp_path, "a", "one\n")
    before = git(reg.path, "rev-parse", "HEAD").strip()
    reg.rename_model("a", "b")
    renamed = git(reg.path, "rev-parse", "HEAD").strip()
    # the killed writer's checkout: the index and the mark still at the commit before,
    # b's files written, a's unlinked, and its pending target left behind
    git(reg.path, "read-tree", "--reset", "-u", before)
    for path in git(reg.path, "ls-tree", "-r", "--name-only", renamed, "models/").split():
        if path.startswith("models/b"):
            (reg.path / path).parent.mkdir(parents=True, exist_ok=True)
            (reg.path / path).write_bytes(
                subprocess.run(
                    ["git", "-C", str(reg.path), "show", f"{renamed}:{path}"], capture_output=True, check=True
                ).stdout
            )
    for path in git(reg.path, "ls-tree", "-r", "--name-only", before, "models/").split():
        (reg.path / path).unlink()
    (reg.path / "models" / "b" / "notes.txt").write_text("mine\n")
    (reg.path / ".git" / "gitreg-synced").write_text(before + "\n")
    (reg.path / ".git" / "gitreg-syncing").write_text(renamed + "\n")

    reg.rename_model("b", "c")

    assert reg.warnings == []
    assert worktree_problems(reg.path) == ["work tree not clean: ?? models/b/notes.txt"]
    assert sorted(p.name for p in (reg.path / "models").iterdir()) == ["b", "c", "c.yaml"]
    assert not (reg.path / ".git" / "gitreg-syncing").exists()


def test_a_checkout_killed_after_git_wrote_the_index_is_finished_from_where_the_index_is(tmp_path: Path):
    """Killed after ``read-tree`` wrote the index but before the sync's mark: the index and the
    files show the rename, the mark the commit before. A two-way merge from the mark would keep
    the new name's files as staged additions; the sync starts from the commit the index shows."""
    reg = Registry.init(tmp_path / "reg")
    register(reg, tmp_path, "a", "one\n")
    before = git(reg.path, "rev-parse", "HEAD").strip()
    reg.rename_model("a", "b")
    renamed = git(reg.path, "rev-parse", "HEAD").strip()
    (reg.path / ".git" / "gitreg-synced").write_text(before + "\n")
    (reg.path / ".git" / "gitreg-syncing").write_text(renamed + "\n")

    reg.rename_model("b", "c")

    assert reg.warnings == []
    assert worktree_problems(reg.path) == []
    assert sorted(p.name for p in (reg.path / "models").iterdir()) == ["c", "c.yaml"]
