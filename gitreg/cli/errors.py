"""The one place gitreg errors become exit codes.

0 success; 1 a refused operation (any :class:`GitregError`: not found,
invalid input, conflict, integrity, and a file system that refused a write:
full, read-only, a path too long); 2 a usage error (click's own); 3 an
integrity failure, so CI can tell tampering from a typo; 4 ``gitreg check``
found problems (findings are listed, the check itself ran); 130 interrupted;
killed by SIGPIPE (a shell shows 141) when whoever reads our output stopped
reading (``gitreg models | head -1``).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import NoReturn

import click

from gitreg.errors import GitregError, IntegrityError, StorageError, storage_error

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTEGRITY = 3
EXIT_FINDINGS = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + 13  # where SIGPIPE cannot kill us (Windows)

# What a storage failure left undone, by command: the write is published by
# one ref transaction after every object is written, so a refused write
# changed nothing.
_UNDONE = {
    "register": "nothing was registered",
    "promote": "nothing was promoted",
    "demote": "nothing was demoted",
    "delete": "nothing was deleted",
}


def exit_code(exc: GitregError) -> int:
    return EXIT_INTEGRITY if isinstance(exc, IntegrityError) else EXIT_REFUSED


class GitregClickError(click.ClickException):
    """A library error shown as one line on stderr with its exit code."""

    def __init__(self, exc: GitregError) -> None:
        super().__init__(str(exc))
        self.exit_code = exit_code(exc)  # type: ignore[misc]  # click reads it per instance

    def show(self, file: object = None) -> None:
        from gitreg.cli.output import colour_allowed

        coloured = colour_allowed(err=True)
        prefix = click.style("Error:", fg="red", bold=True) if coloured else "Error:"
        click.echo(f"{prefix} {self.format_message()}", err=True, color=coloured)


def as_gitreg_error(exc: GitregError | OSError, command: str | None) -> GitregError | None:
    """The error to show for ``exc`` raised by ``command``: a storage failure
    says what the command left undone; an ``OSError`` of the storage kind
    (full, read-only, name too long) becomes one; None for any other."""
    if isinstance(exc, OSError):
        found = storage_error(exc.errno, exc.filename)
        if found is None:
            return None
        exc = found
    if isinstance(exc, StorageError) and command in _UNDONE:
        return exc.with_outcome(_UNDONE[command])
    return exc


def exit_broken_pipe() -> NoReturn:
    """Whoever read our output has gone (``gitreg models | head -1``): end
    quietly, the way git does, by dying of SIGPIPE.

    Why not Python's usual ``sys.exit(1)``: here 1 means "refused", which a
    script would take for a failed command; and 0 would claim the whole
    output was delivered. Dying by the signal gives what git and coreutils
    give: the shell sees 141, ``set -o pipefail`` treats it as git's, and
    nothing is printed. stdout is pointed at /dev/null first so the
    interpreter's final flush cannot complain on stderr.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    os._exit(EXIT_BROKEN_PIPE)


def report_unexpected(exc: BaseException) -> NoReturn:
    click.echo(
        f"Error: unexpected {type(exc).__name__}: {exc}\n"
        "This is a bug in gitreg; rerun with --traceback and report what it prints.",
        err=True,
    )
    sys.exit(EXIT_REFUSED)
