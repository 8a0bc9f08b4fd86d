"""Objects written as one pack (GitStore.packing) are git's own objects."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.gitcli import git

from gitreg.store import MODE_FILE, GitStore, RefUpdate


def test_objects_written_while_packing_are_readable_then_land_in_one_pack(tmp_path: Path) -> None:
    store = GitStore.init(tmp_path / "repo", bare=True)
    with store.packing():
        blob = store.write_blob(b"hello\n")
        tree = store.edit_tree(None, {"dir/hello.txt": (MODE_FILE, blob)})
        commit = store.write_commit(tree, [], "first")
        assert store.read_blob(f"{commit}:dir/hello.txt") == b"hello\n"  # readable before the pack exists
        big = store.write_blob(bytes(range(256)) * 5000)  # a multi-byte size header
    store.update_refs([RefUpdate("refs/heads/main", commit, None)])
    packs = list((tmp_path / "repo" / "objects" / "pack").glob("*.pack"))
    assert len(packs) == 1
    assert git(tmp_path / "repo", "cat-file", "-p", "main:dir/hello.txt") == "hello\n"
    assert git(tmp_path / "repo", "cat-file", "-s", big) == str(256 * 5000) + "\n"
    assert git(tmp_path / "repo", "verify-pack", "-v", str(packs[0].with_suffix(".idx"))).endswith(": ok\n")
    git(tmp_path / "repo", "fsck", "--strict")


def test_a_failure_while_packing_writes_no_object(tmp_path: Path) -> None:
    store = GitStore.init(tmp_path / "repo", bare=True)
    with pytest.raises(RuntimeError), store.packing():
        store.write_blob(b"never\n")
        raise RuntimeError("stop")
    assert not list((tmp_path / "repo" / "objects" / "pack").glob("*"))
