"""Creating a registry (the first commit on main, with ``registry.yaml`` and a README) and opening one.

A new ``registry.yaml`` keeps artifacts over 10 MB in Git LFS; a new bare
registry lets readers' mirrors fetch partially (``uploadpack.allowFilter``,
``uploadpack.allowAnySHA1InWant``)."""

from __future__ import annotations

from pathlib import Path

from gitreg import yamlio
from gitreg.config import DEFAULT_LFS_THRESHOLD, DEFAULT_STAGES
from gitreg.errors import AlreadyExistsError, NotFoundError
from gitreg.registry.layout import CONFIG_FILE, MAIN, at
from gitreg.store import MODE_FILE, GitStore, RefUpdate, worktree

_README = (
    "# gitreg model registry\n\nThis repository is a gitreg model registry. Versions are tags "
    "`<model>/v<N>`, stages are branches `stages/<stage>`.\nUse `gitreg models` to list models.\n"
)


def create_store(path: Path, *, bare: bool) -> GitStore:
    """A new repository at ``path`` (a new or empty directory) holding an empty registry."""
    p = path.expanduser().absolute()
    if p.exists() and GitStore.find_git_dir(p) is not None:
        if GitStore.open(p).read_blob(at(MAIN, CONFIG_FILE)) is not None:
            raise AlreadyExistsError(f"{p} is already a gitreg registry.")
        raise AlreadyExistsError(f"{p} is already a git repository; give 'gitreg init' a new directory.")
    if p.exists() and (not p.is_dir() or any(p.iterdir())):
        raise AlreadyExistsError(f"{p} exists and is not an empty directory; give 'gitreg init' a new path.")
    store = GitStore.init(p, bare=bare)
    if bare:  # main's reflog is how a write notices main lost registrations (store.reflog)
        store.git("config", "core.logAllRefUpdates", "true")
        # readers' mirrors are partial clones: let them ask for no blobs, then for blobs by id
        store.git("config", "uploadpack.allowFilter", "true")
        store.git("config", "uploadpack.allowAnySHA1InWant", "true")
        # a version's models/ tree differs from the one before by a line or two, but versions
        # registered in one batch share a commit second, so git's repack (walking tags by name)
        # compares trees 50 commits apart within its default window of 10 and stores almost
        # none as deltas: what a reader's clone then downloads (docs/scale.md). The wider window
        # is searched among small objects only: artifacts of 1 MB and more (pickles, weights:
        # little in common between versions) are stored whole, or a repack takes minutes
        store.git("config", "pack.window", "50")
        store.git("config", "core.bigFileThreshold", "1m")
    config = yamlio.dump(
        {"format": 1, "stages": list(DEFAULT_STAGES), "policy": {}, "lfs": {"threshold_bytes": DEFAULT_LFS_THRESHOLD}}
    )
    files = {CONFIG_FILE: config.encode(), "README.md": _README.encode()}
    tree = store.edit_tree(None, {k: (MODE_FILE, store.write_blob(v)) for k, v in files.items()})
    commit = store.write_commit(tree, [], "Initialise gitreg registry")
    store.update_refs([RefUpdate(MAIN, commit, None)], "gitreg init")
    if store.work_tree is not None:
        store.git("read-tree", "-u", "--reset", commit)
        worktree.mark_synced(store, commit)
    return store


def open_store(path: Path) -> GitStore:
    """The repository at ``path``; :class:`NotFoundError` saying how to create it when there is none."""
    p = path.expanduser()
    if not p.exists():
        raise NotFoundError(f"Registry {str(p)!r} does not exist. Create it with 'gitreg init {p}'.")
    return GitStore.open(p)


def not_a_registry(shown: str) -> NotFoundError:
    """The error for a git repository ``shown`` whose main holds no ``registry.yaml``."""
    return NotFoundError(
        f"{shown} is a git repository but not a gitreg registry (no {CONFIG_FILE} on main). "
        "Create a registry with 'gitreg init PATH'."
    )
