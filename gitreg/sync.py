"""Moving a cloned registry's state to and from its ``origin``.

A cloned registry (``gitreg clone``) is an ordinary git clone with a work
tree. Its registry state is ``main``, the ``stages/*`` branches and the
version tags. :func:`pull` takes the remote's state where it only adds to
ours (fast-forwards and new tags) in one compare-and-swap transaction, then
brings the work tree along with :func:`gitreg.store.worktree.sync`, which
never overwrites uncommitted edits. :func:`push` sends ours where it only
adds to the remote's, as one atomic push whose leases are the values just
fetched. Where both sides wrote (two people registered "version 3" in their
own clones), neither is overwritten: the command refuses and says which ref
diverged. Writers who want git to serialise them use the URL as the registry
(``--registry URL``), whose writes re-plan on conflict.
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from gitreg.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from gitreg.registry import MAIN, Registry
from gitreg.registry.layout import (
    BRANCH_PREFIX,
    CONFIG_FILE,
    MAIN_BRANCH,
    ORIGIN_BRANCH_PREFIX,
    ORIGIN_TAG_PREFIX,
    STAGE_BRANCH_PREFIX,
    TAG_PREFIX,
    at,
    branch_ref,
    short_ref,
)
from gitreg.store import RefConflict, RefUpdate, worktree
from gitreg.store import remote as git_remote

TRACKING = ORIGIN_BRANCH_PREFIX
REMOTE_TAGS = ORIGIN_TAG_PREFIX  # the remote's tags, kept apart from ours until they are checked
_KEPT = "local/"  # where the pull's advice keeps a clone's diverged branches
_FETCH = (f"+{BRANCH_PREFIX}*:{TRACKING}*", f"+{TAG_PREFIX}*:{REMOTE_TAGS}*")


@dataclass(frozen=True)
class SyncResult:
    url: str
    branches: tuple[str, ...] = ()  # short names of branches moved
    tags: tuple[str, ...] = ()  # tag names added
    warnings: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(self.branches or self.tags)


def _registry_branch(short: str) -> bool:
    return short == MAIN_BRANCH or short.startswith(STAGE_BRANCH_PREFIX)


def _origin(registry: Registry) -> str:
    if getattr(registry.store, "url", None) is not None:
        raise InvalidInputError(
            "This registry is a URL: every write is already pushed and every read fetches. "
            "push/pull are for a registry cloned with 'gitreg clone URL PATH'."
        )
    url = git_remote.remote_url(registry.store)
    if url is None:
        raise InvalidInputError(f"{registry.path} has no remote 'origin'. Clone registries with 'gitreg clone URL'.")
    return url


def _fetch(registry: Registry) -> tuple[dict[str, str], dict[str, str]]:
    """The remote's registry branches and tags, short name -> oid."""
    store = registry.store
    git_remote.fetch(store, git_remote.ORIGIN, _FETCH)
    branches = {ref[len(TRACKING) :]: oid for ref, oid in store.ref_oids(TRACKING).items()}
    tags = {ref[len(REMOTE_TAGS) :]: oid for ref, oid in store.ref_oids(REMOTE_TAGS).items()}
    return {b: o for b, o in branches.items() if _registry_branch(b)}, tags


def pull(registry: Registry) -> SyncResult:
    """Take the remote's new registry state; refuse (changing nothing) where ours diverged."""
    url = _origin(registry)
    store = registry.store
    branches, tags = _fetch(registry)
    updates, moved, added, diverged = [], [], [], []
    for short, theirs in sorted(branches.items()):
        ours = store.ref(branch_ref(short))
        if ours == theirs or (ours is not None and store.is_ancestor(theirs, ours)):
            continue
        if ours is None or store.is_ancestor(ours, theirs):
            updates.append(RefUpdate(branch_ref(short), theirs, ours))
            moved.append(short)
        else:
            diverged.append(short)
    for name, theirs in sorted(tags.items()):
        ours = store.ref(TAG_PREFIX + name)
        if ours is None:
            updates.append(RefUpdate(TAG_PREFIX + name, theirs, None))
            added.append(name)
        elif ours != theirs:
            diverged.append(f"tag {name}")
    if diverged:
        raise ConflictError(
            f"Not pulled: both this clone and {url} changed {', '.join(diverged[:5])}"
            f"{' …' if len(diverged) > 5 else ''}; nothing was changed here. Versions registered in a clone "
            f"cannot be merged. To take {url}'s state, keeping this clone's on branches {_KEPT}*, run: "
            f"{_take_theirs(registry, branches, tags)} (then re-register what you still need from "
            f"{_KEPT}main, against --registry {url} so writers cannot collide)."
        )
    warnings: list[str] = []
    if updates:
        try:
            store.update_refs(updates, f"gitreg pull {url}")
        except RefConflict:
            raise ConflictError("This registry changed while pulling; nothing was changed. Pull again.") from None
        reason = worktree.sync(store)
        if reason:
            warnings.append(f"the pull is done, but {reason}")
    return SyncResult(url, tuple(moved), tuple(added), tuple(warnings))


def _take_theirs(registry: Registry, branches: dict[str, str], tags: dict[str, str]) -> str:
    """The commands that set this clone's registry branches and tags to the
    remote's as just fetched, after saving each branch of ours the remote
    lacks or does not contain as ``local/<branch>`` (outside the registry:
    never pushed or pulled), and end with the pull that then succeeds. The checked-out branch moves with
    ``git reset --keep``, which keeps uncommitted edits or refuses."""
    store = registry.store
    git = f"git -C {shlex.quote(str(registry.path))}"
    head = (store.git_dir / "HEAD").read_text().strip().removeprefix("ref: " + BRANCH_PREFIX)
    steps: list[str] = []
    ours_only = {ref[len(BRANCH_PREFIX) :] for ref in store.ref_oids(BRANCH_PREFIX)} - set(branches)
    for short in sorted(b for b in ours_only if _registry_branch(b)):
        steps.append(f"{git} branch -M {short} {_KEPT}{short}")
    for short, theirs in sorted(branches.items()):
        ours = store.ref(branch_ref(short))
        if ours is None or ours == theirs or store.is_ancestor(ours, theirs):
            continue
        # behind is pulled; ahead or diverged is ours, which may name versions about to go
        steps.append(f"{git} branch -f {_KEPT}{short} {short}")
        if short == head:
            steps.append(f"{git} reset --keep {TRACKING}{short}")
        else:
            steps.append(f"{git} update-ref {branch_ref(short)} {TRACKING}{short}")
    # our tags the remote lacks or holds otherwise, unless a branch it has
    # contains them: left in place, push would publish versions main never had
    our_tags = {ref[len(TAG_PREFIX) :]: oid for ref, oid in store.ref_oids(TAG_PREFIX).items()}
    stray = {name for name, oid in our_tags.items() if tags.get(name) != oid}
    only_ours = {name for name in stray if name not in tags}
    for theirs in set(branches.values()):  # one call per branch, not one per tag
        if not only_ours:
            break
        out = store.git("for-each-ref", "--format=%(refname)", f"--no-merged={theirs}", TAG_PREFIX)
        contained = only_ours - {r.removeprefix(TAG_PREFIX) for r in out.decode().splitlines()}
        stray -= contained
        only_ours -= contained
    if stray:
        steps.append(f"{git} tag -d {' '.join(shlex.quote(n) for n in sorted(stray))}")
    steps.append(f"gitreg pull -r {shlex.quote(str(registry.path))}")
    return " && ".join(steps)


def push(registry: Registry) -> SyncResult:
    """Send our new registry state to ``origin`` as one atomic, leased push."""
    url = _origin(registry)
    store = registry.store
    branches, tags = _fetch(registry)
    updates, moved, added, behind = [], [], [], []
    ours_branches = {short_ref(ref): oid for ref, oid in store.ref_oids(BRANCH_PREFIX).items()}
    ours_branches = {short: oid for short, oid in ours_branches.items() if _registry_branch(short)}
    for short, ours in sorted(ours_branches.items()):
        theirs = branches.get(short)
        if ours == theirs:
            continue
        if theirs is None or store.is_ancestor(theirs, ours):
            updates.append(RefUpdate(branch_ref(short), ours, theirs))
            moved.append(short)
        elif not store.is_ancestor(ours, theirs):
            behind.append(short)
    for ref, oid in store.ref_oids(TAG_PREFIX).items():
        name = ref[len(TAG_PREFIX) :]
        if name not in tags:
            updates.append(RefUpdate(ref, oid, None))
            added.append(name)
        elif tags[name] != oid:
            behind.append(f"tag {name}")
    if behind:
        raise ConflictError(
            f"Not pushed: {url} and this clone both changed {', '.join(behind[:5])}; nothing was pushed. "
            "Run 'gitreg pull' to see what differs."
        )
    if updates:
        lfs_dir = store.git_dir / "lfs" / "objects"
        if lfs_dir.is_dir():
            from gitreg.store import lfs

            lfs.push_objects(store, git_remote.ORIGIN, [p.name for p in lfs_dir.glob("??/??/*") if len(p.name) == 64])
        try:
            git_remote.push_updates(store, git_remote.ORIGIN, updates)
        except RefConflict:
            raise ConflictError(
                f"{url} changed while pushing; nothing was pushed. Run 'gitreg pull', then push."
            ) from None
    return SyncResult(url, tuple(moved), tuple(added))


def clone(url: str, path: Path) -> tuple[Registry, SyncResult]:
    """Clone the registry at ``url`` into ``path`` with its stage branches and
    tags, work tree on ``main``. A failed clone leaves no directory behind."""
    path = path.expanduser().absolute()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise AlreadyExistsError(f"{path} exists and is not an empty directory; give 'gitreg clone' a new path.")
    existed = path.exists()
    try:
        store = git_remote.clone(url, path, MAIN_BRANCH)
        if store.read(at(MAIN, CONFIG_FILE)) is None:
            raise NotFoundError(f"{url} is a git repository but not a gitreg registry (no registry.yaml on main).")
        head = store.ref(MAIN)
        assert head is not None
        worktree.mark_synced(store, head)
        registry = Registry(store)
        result = pull(registry)
    except BaseException:
        if existed:
            for child in path.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
        raise
    stages = tuple(b for b in result.branches if b.startswith(STAGE_BRANCH_PREFIX))
    return registry, SyncResult(url, stages, result.tags)
