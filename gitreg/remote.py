"""A registry named by a git URL: read from a local mirror, fetched on demand;
written through the mirror and pushed as one compare-and-swap.

Writes need nothing here: :class:`gitreg.store.remote.MirrorStore` makes every
ref transaction an atomic, leased push, and a rejected push surfaces as
``RefConflict``, on which the registry's own write loops re-plan on the newly
fetched heads. This class only decides when reading must fetch:

- an immutable version (``models:/M/3``) fetches only if its tag is not in the
  mirror yet, so loading the same version again fetches nothing;
- everything that can move (stages, aliases, latest, model lists, metadata)
  fetches at most once per :data:`FRESH_SECONDS` per process, so one command
  or one burst of calls in a serving process costs one round trip;
- when the remote cannot be reached, reads go on from the mirror and one
  warning line goes to stderr.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from typing import Any

from gitreg.errors import GitError, NotFoundError
from gitreg.manifest import Manifest, ModelRecord
from gitreg.registry import Registry, VersionRef, tag_ref
from gitreg.store.remote import MirrorStore, RemoteUnreachable

FRESH_SECONDS = float(os.environ.get("GITREG_FETCH_TTL", "2"))


class RemoteRegistry(Registry):
    """A registry whose store is a mirror of a remote URL."""

    store: MirrorStore

    def __init__(self, store: MirrorStore) -> None:
        super().__init__(store)
        self._fetched_at = float("-inf")
        self._warned = False

    def __repr__(self) -> str:
        return f"RemoteRegistry({self.url!r})"

    @property
    def url(self) -> str:
        return self.store.url

    @classmethod
    def open_url(cls, url: str) -> RemoteRegistry:
        """Open the registry at ``url`` through its mirror under the cache directory."""
        from gitreg.cache import cache_root
        from gitreg.store.remote import mirror_dir

        cloned = not (mirror_dir(cache_root(), url) / "HEAD").is_file()
        try:
            store = MirrorStore.open_mirror(cache_root(), url)
        except RemoteUnreachable as exc:
            raise RemoteUnreachable(f"{exc} (and there is no local mirror of it to work from).") from None
        registry = cls(store)
        if cloned:
            registry._fetched_at = time.monotonic()
        if store.ref("refs/heads/main") is None:
            registry.refresh()
        registry._check_is_registry()
        return registry

    def refresh(self, *, force: bool = False) -> None:
        """Fetch unless this process fetched less than FRESH_SECONDS ago."""
        if not force and time.monotonic() - self._fetched_at < FRESH_SECONDS:
            return
        try:
            self.store.fetch()
        except GitError as exc:  # unreachable, or a ref locked by a process sharing the mirror
            if not self._warned:
                print(f"warning: {exc}; using the local mirror as last fetched.", file=sys.stderr)
                self._warned = True
        self._fetched_at = time.monotonic()

    def _check_is_registry(self) -> None:
        if self.store.read("refs/heads/main:registry.yaml") is None:
            raise NotFoundError(
                f"{self.url} is not a gitreg registry (no registry.yaml on its main branch). "
                "Create one with 'gitreg init --bare PATH' and push it there."
            )

    # -- reads that may move: fetch within the freshness window ---------------

    def version_ref(
        self, name: str, version: int, *, record: ModelRecord | None = None, known: tuple[str, Manifest] | None = None
    ) -> VersionRef:
        try:
            number = int(version)
        except (TypeError, ValueError):
            number = None
        if number is None or self.store.read(tag_ref(name, number)) is None:
            self.refresh()
        return super().version_ref(name, version, record=record, known=known)

    def latest_ref(self, name: str) -> VersionRef:
        self.refresh()
        return super().latest_ref(name)

    def stage_ref_version(self, name: str, stage: str) -> VersionRef | None:
        self.refresh()
        return super().stage_ref_version(name, stage)

    def model_names(self) -> list[str]:
        self.refresh()
        return super().model_names()

    def record(self, name: str) -> Any:
        self.refresh()
        return super().record(name)

    def stage_names(self) -> list[str]:
        self.refresh()
        return super().stage_names()

    def stages_of(self, name: str, stages: Iterable[str] | None = None) -> dict[str, int]:
        self.refresh()
        return super().stages_of(name, stages)

    # -- writes: plan on fresh heads so a push is rarely refused ---------------

    def _write(self, *args: Any, **kwargs: Any) -> Any:
        self.refresh()
        return super()._write(*args, **kwargs)

    def _move_stages(self, *args: Any, **kwargs: Any) -> Any:
        self.refresh()
        return super()._move_stages(*args, **kwargs)

    def propose(self, name: str, version: int, stage: str) -> Any:
        self.refresh()  # the proposal must sit on the stage's current head, not the mirror's memory of it
        return super().propose(name, version, stage)
