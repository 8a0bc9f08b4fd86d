"""The parts a :class:`~gitreg.registry.Registry` is composed of, each built on first use.

A reader is made with the registry; the writing parts (the write protocol, records, versions,
promotion with its policy gate, deletion) only when something writes. Most processes (a
listing, a load, a server) never write, so they never import them: that is a cold CLI
command's start-up time.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from gitreg.registry.freshness import Freshness
from gitreg.registry.reader import Reader
from gitreg.store import GitStore

if TYPE_CHECKING:
    from gitreg.registry.deletion import Deletion
    from gitreg.registry.promotion import Promotion
    from gitreg.registry.records import Records
    from gitreg.registry.versions import Versions
    from gitreg.registry.writer import Writer


class Parts:
    """A store, its freshness policy, the warnings writes leave, and the parts reading and writing it."""

    def __init__(self, store: GitStore, fresh: Freshness | None = None) -> None:
        self.store = store
        self.fresh = fresh or Freshness()
        self.warnings: list[str] = []
        self.reader = Reader(store, self.fresh)

    @functools.cached_property
    def writer(self) -> Writer:
        from gitreg.registry.writer import Writer

        return Writer(self.store, self.fresh, self.warnings)

    @functools.cached_property
    def records(self) -> Records:
        from gitreg.registry.records import Records

        return Records(self.reader, self.writer)

    @functools.cached_property
    def versions(self) -> Versions:
        from gitreg.registry.versions import Versions

        return Versions(self.reader, self.writer, self.records)

    @functools.cached_property
    def promotion(self) -> Promotion:
        from gitreg.registry.promotion import Promotion

        return Promotion(self.reader, self.writer)

    @functools.cached_property
    def deletion(self) -> Deletion:
        from gitreg.registry.deletion import Deletion

        return Deletion(self.reader, self.writer, self.records)
