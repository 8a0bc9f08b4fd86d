"""A throwaway repository that sees another's objects under a set of refs of our choosing.

A pre-receive hook must judge the state a push would create before git
creates it: the pushed objects sit in a quarantine directory and the refs
have not moved. :func:`view` makes that state readable like any repository
(objects borrowed through ``objects/info/alternates``, nothing copied), so
the same checks that read a registry read the proposed one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from gitreg.store.repo import GitStore, RefUpdate


def view(path: Path, objects: Sequence[Path], refs: Mapping[str, str]) -> GitStore:
    """A bare repository at ``path`` (new or empty) whose objects are those of the
    ``objects`` directories and whose refs are exactly ``refs`` (full name -> object id).
    The caller removes ``path`` when done; nothing is written anywhere else."""
    store = GitStore.init(path, bare=True)
    info = store.git_dir / "objects" / "info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "alternates").write_text("".join(f"{Path(o).absolute()}\n" for o in objects))
    if refs:
        store.update_refs([RefUpdate(ref, oid, None) for ref, oid in sorted(refs.items())], "gitreg: view")
    return store
