"""The git store: objects written in-process are valid git objects, and
refs move only by compare-and-swap."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers.gitcli import git

from gitreg.errors import NotFoundError
from gitreg.store import MODE_FILE, MODE_TREE, GitStore, RefConflict, RefUpdate
from gitreg.store.objects import TreeEntry


@pytest.fixture
def store(tmp_path: Path) -> GitStore:
    return GitStore.init(tmp_path / "repo.git", bare=True)


def test_blobs_trees_commits_and_tags_written_in_process_pass_git_fsck_strict(store: GitStore) -> None:
    blob = store.write_blob(b"hello\n")
    assert (
        blob
        == subprocess.run(["git", "hash-object", "--stdin"], input=b"hello\n", capture_output=True, check=True)
        .stdout.decode()
        .strip()
    )
    tree = store.edit_tree(None, {"a/b.txt": (MODE_FILE, blob), "a.txt": (MODE_FILE, blob), "z": (MODE_FILE, blob)})
    commit = store.write_commit(tree, [], "first")
    tag = store.write_tag(commit, "m/v1", "a version")
    store.update_refs([RefUpdate("refs/heads/main", commit, None), RefUpdate("refs/tags/m/v1", tag, None)])
    subprocess.run(["git", f"--git-dir={store.git_dir}", "fsck", "--strict"], check=True, capture_output=True)
    assert git(store.git_dir, "cat-file", "-p", "main:a/b.txt") == "hello\n"
    listing = git(store.git_dir, "ls-tree", "--name-only", "main").split()
    assert listing == ["a.txt", "a", "z"]  # "a.txt" < "a/" in git order


def test_tree_entries_sort_as_git_sorts_directories(store: GitStore) -> None:
    blob = store.write_blob(b"x")
    # git orders "a.b" before the directory "a" (compared as "a/"), and "a0" after it
    tree = store.edit_tree(None, {"a/x": (MODE_FILE, blob), "a.b": (MODE_FILE, blob), "a0": (MODE_FILE, blob)})
    listing = git(store.git_dir, "ls-tree", tree).splitlines()
    assert [line.split("\t")[1] for line in listing] == ["a.b", "a", "a0"]
    subprocess.run(["git", f"--git-dir={store.git_dir}", "fsck", "--strict"], check=True, capture_output=True)


def test_edit_tree_removes_paths_and_drops_emptied_directories(store: GitStore) -> None:
    blob = store.write_blob(b"x")
    tree = store.edit_tree(None, {"models/m/a": (MODE_FILE, blob), "keep": (MODE_FILE, blob)})
    after = store.edit_tree(tree, {"models/m/a": None})
    assert set(store.read_tree(after) or {}) == {"keep"}


def test_update_refs_refuses_when_a_ref_moved_and_applies_nothing(store: GitStore) -> None:
    tree = store.edit_tree(None, {"f": (MODE_FILE, store.write_blob(b"1"))})
    c1 = store.write_commit(tree, [], "one")
    c2 = store.write_commit(tree, [c1], "two")
    store.update_refs([RefUpdate("refs/heads/main", c1, None)])
    with pytest.raises(RefConflict):
        store.update_refs([RefUpdate("refs/heads/other", c2, None), RefUpdate("refs/heads/main", c2, c2)])
    assert store.ref("refs/heads/main") == c1
    assert store.ref("refs/heads/other") is None


def test_reads_see_refs_moved_by_other_processes(store: GitStore) -> None:
    tree = store.edit_tree(None, {"f": (MODE_FILE, store.write_blob(b"1"))})
    c1 = store.write_commit(tree, [], "one")
    store.update_refs([RefUpdate("refs/heads/main", c1, None)])
    assert store.ref("refs/heads/main") == c1
    c2 = store.write_commit(tree, [c1], "two")
    git(store.git_dir, "update-ref", "refs/heads/main", c2)
    assert store.ref("refs/heads/main") == c2
    git(store.git_dir, "pack-refs", "--all")
    assert store.ref("refs/heads/main") == c2


def test_missing_objects_read_as_none(store: GitStore) -> None:
    assert store.read("refs/heads/nope") is None
    assert store.read_tree("0" * 40) is None
    assert store.read_blob("refs/heads/main:missing") is None


def test_open_refuses_a_directory_that_is_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not a git repository"):
        GitStore.open(tmp_path)


def test_tree_entry_modes_round_trip(store: GitStore) -> None:
    blob = store.write_blob(b"x")
    sub = store.write_tree([TreeEntry(MODE_FILE, "f", blob)])
    root = store.write_tree([TreeEntry(MODE_TREE, "d", sub)])
    assert store.read_tree(root) == {"d": TreeEntry(MODE_TREE, "d", sub)}
