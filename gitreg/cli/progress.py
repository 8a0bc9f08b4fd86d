"""Progress bars on a terminal: one line on stderr, rewritten with ``\\r``, throttled, cleared at the end.

The library reports progress (:mod:`gitreg.store.progress`); this draws it,
and only for a person watching: stderr is a terminal, the command is not
``-q`` nor ``--json``, and ``TERM`` is not ``dumb``. Scripts, pipes and CI
logs see nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

from gitreg.cli.output import is_quiet
from gitreg.store import progress

MIN_BYTES = 4 << 20  # a smaller task is over before a bar could tell anyone anything
INTERVAL = 0.1  # seconds between redraws


class TerminalProgress:
    """A :data:`~gitreg.store.progress.Listener` drawing the current task as one line on ``stream``."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self._shown = 0  # characters on the line now
        self._last = float("-inf")
        self._started: dict[tuple[str, str], float] = {}

    def __call__(self, update: progress.Update) -> None:
        if update.total is not None and update.total < MIN_BYTES:
            return
        now = self.clock()
        key = (update.kind, update.label)
        if update.finished:
            self._started.pop(key, None)
            self.clear()
            return
        started = self._started.setdefault(key, now)
        if now - self._last >= INTERVAL:
            self._last = now
            self._draw(line(update, now - started, shutil.get_terminal_size((80, 24)).columns - 1))

    def _draw(self, text: str) -> None:
        self.stream.write("\r" + text.ljust(self._shown))
        self.stream.flush()
        self._shown = len(text)

    def clear(self) -> None:
        """Blank the line and put the cursor back at its start (nothing when nothing is shown)."""
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0
            self._last = float("-inf")


def line(update: progress.Update, elapsed: float, width: int) -> str:
    """``hashing model.pkl [#####     ]  52%  156/300 MB  210 MB/s``, cut to ``width`` characters."""
    mb = update.done / 1e6
    rate = f"  {mb / elapsed:,.0f} MB/s" if elapsed > 0 else ""
    if update.total:
        fraction = min(update.done / update.total, 1.0)
        bar = "#" * int(fraction * 20)
        text = f"{update.kind} {update.label} [{bar:<20}] {fraction:4.0%}  {mb:,.0f}/{update.total / 1e6:,.0f} MB{rate}"
    else:
        text = f"{update.kind} {update.label}  {mb:,.0f} MB{rate}"
    return text[: max(width, 0)]


def wanted(as_json: bool = False, stream: TextIO | None = None) -> bool:
    """Whether to draw progress: a terminal on stderr and a person reading it."""
    out = stream or sys.stderr
    return (
        not as_json
        and not is_quiet()
        and os.environ.get("TERM") != "dumb"
        and bool(getattr(out, "isatty", lambda: False)())
    )


@contextlib.contextmanager
def on_terminal(as_json: bool = False) -> Iterator[None]:
    """Draw the library's progress on stderr inside the block, when :func:`wanted`; the line is cleared after."""
    if not wanted(as_json):
        yield
        return
    renderer = TerminalProgress(sys.stderr)
    try:
        with progress.reporting(renderer):
            yield
    finally:
        renderer.clear()
