"""The one place gitreg errors become exit codes.

0 success; 1 a refused operation (any :class:`GitregError`: not found,
invalid input, conflict, integrity); 2 a usage error (click's own); 3 an
integrity failure, so CI can tell tampering from a typo; 4 ``gitreg check``
found problems (findings are listed, the check itself ran); 130 interrupted.
"""

from __future__ import annotations

import sys

import click

from gitreg.errors import GitregError, IntegrityError

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTEGRITY = 3
EXIT_FINDINGS = 4
EXIT_INTERRUPTED = 130


def exit_code(exc: GitregError) -> int:
    return EXIT_INTEGRITY if isinstance(exc, IntegrityError) else EXIT_REFUSED


class GitregClickError(click.ClickException):
    """A library error shown as one line on stderr with its exit code."""

    def __init__(self, exc: GitregError) -> None:
        super().__init__(str(exc))
        self.exit_code = exit_code(exc)  # type: ignore[misc]  # click reads it per instance

    def show(self, file: object = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def report_unexpected(exc: BaseException) -> None:
    click.echo(
        f"Error: unexpected {type(exc).__name__}: {exc}\n"
        "This is a bug in gitreg; rerun with --traceback and report what it prints.",
        err=True,
    )
    sys.exit(EXIT_REFUSED)
