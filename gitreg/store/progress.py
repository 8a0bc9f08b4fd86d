"""Progress of long operations (hashing, writing, fetching, materialising), for whoever listens.

The library reports and never draws: a front end (the CLI's terminal
renderer, :mod:`gitreg.cli.progress`) installs a listener with
:func:`reporting` for the length of a command. Nobody listens by default,
and then a report costs one attribute test per chunk. It lives beside the
store because the store is the lowest layer that has something to report;
it knows nothing of git or models.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass

HASH = "hashing"
WRITE = "writing"
FETCH = "fetching"
MATERIALISE = "materialising"


@dataclass(frozen=True)
class Update:
    """``done`` of ``total`` bytes of one task (total None: unknown); ``finished`` on its last update."""

    kind: str  # HASH, WRITE, FETCH or MATERIALISE
    label: str  # what is being worked on, e.g. a file name
    done: int
    total: int | None
    finished: bool = False


Listener = Callable[[Update], None]
_listener: contextvars.ContextVar[Listener | None] = contextvars.ContextVar("gitreg_progress", default=None)


@contextlib.contextmanager
def reporting(listener: Listener) -> Iterator[None]:
    """Send every task's updates inside the block to ``listener`` (in this thread or task)."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def listening() -> bool:
    """Whether anyone listens: a caller may then pay for reporting (e.g. ask git for ``--progress``)."""
    return _listener.get() is not None


class Task:
    """One operation's progress; :meth:`advance` as bytes are done."""

    def __init__(self, kind: str, label: str, total: int | None, listener: Listener | None) -> None:
        self.kind, self.label, self.total = kind, label, total
        self.done = 0
        self._listener = listener

    def advance(self, n: int) -> None:
        self.done += n
        if self._listener is not None:
            self._listener(Update(self.kind, self.label, self.done, self.total))

    def _finish(self) -> None:
        if self._listener is not None:
            self._listener(Update(self.kind, self.label, self.done, self.total, finished=True))


@contextlib.contextmanager
def task(kind: str, label: str, total: int | None) -> Iterator[Task]:
    """A task reported to the current listener; it is finished when the block ends, even by an error."""
    t = Task(kind, label, total, _listener.get())
    try:
        yield t
    finally:
        t._finish()
