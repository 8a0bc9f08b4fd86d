"""changed_commits: a branch's first-parent commits that changed some paths, newest first, each with
the old and new object of every path it changed; stopping early ends git."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitreg.store import MODE_FILE, GitStore
from gitreg.store.changes import changed_commits


def commit(store: GitStore, parent: str | None, files: dict[str, bytes], message: str, when: int) -> str:
    root = store.commit_tree(parent) if parent else None
    tree = store.edit_tree(root, {p: (MODE_FILE, store.write_blob(b)) for p, b in files.items()})
    return store.write_commit(tree, [parent] if parent else [], message, when=when)


def test_commits_come_newest_first_with_what_they_changed(tmp_path: Path) -> None:
    store = GitStore.init(tmp_path / "repo.git", bare=True)
    a = commit(store, None, {"m/a.yaml": b"1", "other": b"x"}, "first", 1_800_000_000)
    b = commit(store, a, {"other": b"y"}, "not under m/", 1_800_000_100)
    c = commit(store, b, {"m/a.yaml": b"2"}, "second", 1_800_000_200)
    got = list(changed_commits(store, [c], ["m"]))
    assert [(g.time, g.subject) for g in got] == [(1_800_000_200, "second"), (1_800_000_000, "first")]
    change = {ch.path: ch for ch in got[0].changes}["m/a.yaml"]
    assert change.old == store.blob_ids([f"{a}:m/a.yaml"])[0] and change.new == store.blob_ids([f"{c}:m/a.yaml"])[0]
    assert {ch.path: ch.old for ch in got[1].changes}["m/a.yaml"] is None  # added
    assert "m" in {ch.path for ch in got[0].changes}  # trees too
    assert [g.subject for g in changed_commits(store, [f"{a}..{c}"], ["m"])] == ["second"]


def test_stopping_early_ends_the_git_process(tmp_path: Path, monkeypatch: Any) -> None:
    from gitreg.store import process

    store = GitStore.init(tmp_path / "repo.git", bare=True)
    head = None
    for i in range(50):
        head = commit(store, head, {"m/a.yaml": str(i).encode()}, f"change {i}", 1_800_000_000 + i)
    started: list[Any] = []
    real = process.start
    monkeypatch.setattr(process, "start", lambda *a, **k: started.append(real(*a, **k)) or started[-1])
    walk = changed_commits(store, [head or ""], ["m"])
    assert next(walk).subject == "change 49"
    walk.close()
    assert started and started[0].poll() is not None
