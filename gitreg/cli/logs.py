"""The library's log on the terminal: ``warning: ...`` lines on stderr, as git prints them."""

from __future__ import annotations

import logging

import click


class _WarningLine(logging.Handler):
    """The library's warnings (logger ``gitreg``) as ``warning: ...`` lines on stderr, as git prints them."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def show_library_warnings(*, verbose: bool = False) -> None:
    """Route the library's log (warnings and above; INFO too when ``verbose``) to stderr, once per process."""
    log = logging.getLogger("gitreg")
    level = logging.INFO if verbose else logging.WARNING
    handler = next((h for h in log.handlers if isinstance(h, _WarningLine)), None)
    if handler is None:
        handler = _WarningLine(level)
        log.addHandler(handler)
    handler.setLevel(level)
    if verbose and log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
