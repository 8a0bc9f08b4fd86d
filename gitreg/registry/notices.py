"""What writes leave to say, emitted through the ``gitreg`` logger: the library's one channel for warnings.

A write that succeeded may still have something to say (a work tree left
behind, a stale mirror, a rebase in progress). The :class:`~gitreg.registry.writer.Writer`
appends it to a list the registry owns, so that a caller can also show it
where the user looks (the UI's page); :func:`flush` emits and forgets them.
"""

from __future__ import annotations

import logging

log = logging.getLogger("gitreg")


def flush(pending: list[str]) -> list[str]:
    """Emit each of ``pending`` as a warning of the ``gitreg`` logger and empty the list; returns what it held."""
    said = list(pending)
    for warning in said:
        log.warning("%s", warning)
    pending.clear()
    return said
