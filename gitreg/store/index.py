"""What is staged in a work tree's index: the one question gitreg asks of it."""

from __future__ import annotations

from pathlib import Path

from gitreg.errors import InvalidInputError
from gitreg.store import process
from gitreg.store.repo import GitStore


def staged_tree(store: GitStore, index_file: Path | None = None) -> str:
    """The id of the tree the index holds (what ``git commit`` would commit), written as
    objects but named by no ref. ``index_file`` is the index git gave a hook
    (``GIT_INDEX_FILE``; ``git commit -a`` and ``git commit PATH`` use a temporary one)."""
    if store.work_tree is None:
        raise InvalidInputError(f"{store.git_dir} is a bare repository: it has no index to check.")
    env = {"GIT_INDEX_FILE": str(index_file)} if index_file else None
    args = [f"--git-dir={store.git_dir}", f"--work-tree={store.work_tree}", "write-tree"]
    return process.run(args, cwd=store.work_tree, env_extra=env).decode().strip()
