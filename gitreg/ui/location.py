"""Which registry the pages show, named as the user named it.

``gitreg ui -r https://host/org/registry.git`` browses a local mirror under
the cache directory; the pages (and the writes, which must go to the remote)
use the URL, not the mirror's path.
"""

from __future__ import annotations

from pathlib import Path

from gitreg.cache import cache_root
from gitreg.registry import Registry
from gitreg.remote import RemoteRegistry
from gitreg.store import GitStore
from gitreg.store.remote import mirror_dir, remote_url
from gitreg.ui.html import Safe, render


def source(registry: str) -> str:
    """``registry`` itself, or the URL it mirrors when it is a mirror in the cache."""
    if "://" in registry:
        return registry
    path = Path(registry).expanduser()
    try:
        store = GitStore.open(path)
        url = remote_url(store)
    except Exception:  # not a repository: the app reports that on the first request
        return registry
    if url and mirror_dir(cache_root(), url).resolve() == store.git_dir.resolve():
        return url
    return registry


def name_of(reg: Registry) -> str:
    return reg.url if isinstance(reg, RemoteRegistry) else str(reg.path)


def remote_of(reg: Registry) -> str | None:
    """The URL the registry is shared through (its mirror's, or its origin), for forge links."""
    if isinstance(reg, RemoteRegistry):
        return reg.url
    try:
        return remote_url(reg.store)
    except Exception:  # a link is a convenience
        return None


def describe(reg: Registry) -> Safe:
    return render('<p class="registry-banner">Registry <code>$r</code></p>', r=name_of(reg))
