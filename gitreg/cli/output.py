"""Printing for the CLI: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def registry_option(f: F) -> F:
    """``-r/--registry`` on a subcommand too (``gitreg models -r PATH``)."""
    return click.option("-r", "--registry", "registry", metavar="PATH", help="Registry to use.")(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def open_registry(registry: str | None) -> Any:
    from gitreg.locate import open_registry as _open

    ctx = click.get_current_context()
    chosen = registry or (ctx.find_root().obj or {}).get("registry")
    return _open(chosen)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for i, row in enumerate(cells):
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        click.echo(click.style(line, bold=True) if i == 0 else line)


def when(ms_or_s: int, *, seconds: bool = False) -> str:
    ts = ms_or_s if seconds else ms_or_s / 1000
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def say(message: str) -> None:
    """The one line a command prints on success."""
    click.echo(message)


def warn(messages: list[str]) -> None:
    for m in messages:
        click.echo(f"warning: {m}", err=True)
    messages.clear()


def key_values(pairs: Sequence[str], what: str) -> dict[str, str]:
    out = {}
    for p in pairs:
        if "=" not in p or p.startswith("="):
            raise click.BadParameter(f"{p!r}: expected KEY=VALUE", param_hint=f"--{what}")
        k, v = p.split("=", 1)
        out[k] = v
    return out


class _WarningLine(logging.Handler):
    """The library's warnings (logger ``gitreg``) as ``warning: ...`` lines on stderr, as git prints them."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def show_library_warnings() -> None:
    """Route the library's log (warnings and above) to stderr, once per process."""
    log = logging.getLogger("gitreg")
    if not any(isinstance(h, _WarningLine) for h in log.handlers):
        log.addHandler(_WarningLine(logging.WARNING))
