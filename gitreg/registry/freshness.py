"""When a registry must look at its source again before reading or writing.

A local registry is its own source: nothing to do. A registry opened from a
git URL reads a mirror, and the policy composed into it decides when the
mirror is fetched (:class:`gitreg.remote.FetchWithin`). The reader and the
writer call these hooks at the start of every public read and every write, so
no path can skip them.
"""

from __future__ import annotations


class Freshness:
    """The policy of a registry that is its own source: every hook does nothing."""

    def moving(self) -> None:
        """Before reading something that can move (a stage, ``latest``, a listing, a record)."""

    def immutable(self, ref: str) -> None:
        """Before reading the immutable ref ``ref`` (a version tag): fetch only if it is not known yet."""

    def before_write(self) -> None:
        """Before planning a write, so that it is planned on current heads."""

    def force(self) -> None:
        """Look at the source now, whatever the policy's window."""
