"""When a registered model last changed: the newest registry commit that touched it.

Every change of a model is a commit: a registration, a tag, a description or a deletion
changes ``models/<name>.yaml`` on main; a stage move or an alias changes ``models/<name>/``
on a stage branch (the commits whose trailers name the model, :mod:`.promotion`). So the
model's ``last_updated_timestamp`` is the newest of those commits, found by one path-limited
``git log`` over main and the stage branches. Git records commit times in whole seconds.
"""

from __future__ import annotations

from collections.abc import Iterable

from gitreg.registry import layout
from gitreg.registry.layout import MAIN
from gitreg.store import GitStore


def last_change_ms(store: GitStore, name: str, stages: Iterable[str]) -> int | None:
    """Milliseconds since the epoch of the newest first-parent commit on main or on the branch
    of one of ``stages`` (every stage branch there is: ``Reader.stage_names()``) that touched
    model ``name``, or None if none did. First parents, so a stage move merged from a pull
    request counts from when its merge commit landed."""
    branches = [MAIN, *(layout.stage_ref(s) for s in stages)]
    paths = (layout.record_path(name), layout.version_dir(name))
    out = store.git("log", "-1", "--first-parent", "--format=%ct", *branches, "--", *paths).decode().strip()
    return int(out) * 1000 if out else None


__all__ = ["last_change_ms"]
