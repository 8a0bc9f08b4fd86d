"""Pipelined reads: many cat-file lookups in one exchange, reused inside a snapshot."""

from __future__ import annotations

from pathlib import Path

from gitreg.store import MODE_FILE, GitStore, RefUpdate


def test_read_many_answers_like_one_read_at_a_time_even_past_the_pipe_buffers(tmp_path: Path) -> None:
    store = GitStore.init(tmp_path / "repo", bare=True)
    blobs = {f"f{i}.txt": store.write_blob(f"{i}\n".encode() * 500) for i in range(300)}  # ~1 MB of answers
    tree = store.edit_tree(None, {k: (MODE_FILE, v) for k, v in blobs.items()})
    commit = store.write_commit(tree, [], "files")
    store.update_refs([RefUpdate("refs/heads/main", commit, None)])
    specs = [f"refs/heads/main:{k}" for k in blobs] + ["refs/heads/main:missing", "bad\nspec"]
    assert store._batch.read_many(specs) == [store.read(s) for s in specs]


def test_reads_inside_a_snapshot_reuse_prefetched_answers(tmp_path: Path) -> None:
    store = GitStore.init(tmp_path / "repo", bare=True)
    first = store.write_commit(store.edit_tree(None, {"a": (MODE_FILE, store.write_blob(b"1"))}), [], "one")
    store.update_refs([RefUpdate("refs/heads/main", first, None)])
    with store.snapshot():
        store.prefetch(["refs/heads/main:a"])
        second = store.write_commit(store.edit_tree(None, {"a": (MODE_FILE, store.write_blob(b"2"))}), [first], "two")
        store.update_refs([RefUpdate("refs/heads/main", second, first)])
        assert store.read_blob("refs/heads/main:a") == b"1"  # as of the snapshot
    assert store.read_blob("refs/heads/main:a") == b"2"


def test_prefetched_tree_entries_answer_as_path_lookups_do(tmp_path: Path) -> None:
    store = GitStore.init(tmp_path / "repo", bare=True)
    changes = {f"models/m{i}.yaml": (MODE_FILE, store.write_blob(f"{i}".encode())) for i in range(50)}
    commit = store.write_commit(store.edit_tree(None, changes), [], "models")
    store.update_refs([RefUpdate("refs/heads/main", commit, None)])
    names = ["m3.yaml", "m49.yaml", "absent.yaml"]
    expected = [store.read(f"refs/heads/main:models/{n}") for n in names]
    with store.snapshot():
        store.prefetch_entries("refs/heads/main:models", names)
        assert set(names) <= {spec.rsplit("/", 1)[1] for spec in store._prefetched or {}}
        assert [store.read(f"refs/heads/main:models/{n}") for n in names] == expected
    assert expected[2] is None
