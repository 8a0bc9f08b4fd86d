"""Printing for the CLI: aligned tables for people, JSON for scripts.

What the group options decide is kept in the click context's shared ``meta``:
``-q`` drops the success line (:func:`say`), ``--color``/``NO_COLOR`` decide
whether :func:`style` adds ANSI codes, ``-v`` shows the library's INFO log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def registry_option(f: F) -> F:
    """``-r/--registry`` on a subcommand too (``gitreg models -r PATH``)."""
    return click.option("-r", "--registry", "registry", metavar="PATH", help="Registry to use.")(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def json_result_option(f: F) -> F:
    """``--json`` on a command that changes something: one JSON object saying what changed."""
    return click.option("--json", "as_json", is_flag=True, help="Print what changed as one JSON object.")(f)


def allowed_host_option(f: F) -> F:
    """``--allowed-host`` of the two servers (``serve`` and ``ui``): the Host names answered besides the local ones."""
    return click.option(
        "--allowed-host",
        "allowed_hosts",
        multiple=True,
        metavar="NAME",
        help="Also answer requests naming NAME in Host (besides localhost, 127.0.0.1, [::1] and --host "
        "unless 0.0.0.0/::); repeatable; '*' accepts any. Others get 421.",
    )(f)


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
        click.echo(style(line, bold=True) if i == 0 else line)


COLOR_CHOICES = ("auto", "always", "never")


def color_setting(choice: str | None) -> bool | None:
    """``--color`` as click's ``Context.color``: True always, False never, None
    to decide per stream (a terminal gets colour). ``NO_COLOR`` (any non-empty
    value, https://no-color.org) turns ``auto`` into never."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return None


_chosen_color: list[bool | None] = [None]  # the group's --color, for errors shown after its context closed


def choose_color(choice: str | None) -> bool | None:
    """Remember ``--color`` for this process; returns it as ``Context.color``."""
    _chosen_color[0] = color_setting(choice)
    return _chosen_color[0]


def colour_allowed(*, err: bool = False) -> bool:
    """Whether text styled now would reach the user as colour."""
    ctx = click.get_current_context(silent=True)
    setting = ctx.color if ctx is not None else _chosen_color[0]
    if setting is None and os.environ.get("NO_COLOR"):
        setting = False
    if setting is not None:
        return setting
    stream = sys.stderr if err else sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)())


def style(text: str, *, err: bool = False, **styles: Any) -> str:
    """``click.style`` when colour is allowed on that stream, else ``text`` unchanged."""
    return click.style(text, **styles) if colour_allowed(err=err) else text


def is_quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get("gitreg.quiet"))


def when(ms_or_s: int, *, seconds: bool = False) -> str:
    ts = ms_or_s if seconds else ms_or_s / 1000
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def say(message: str) -> None:
    """The one line a command prints on success (not with ``-q``)."""
    if not is_quiet():
        click.echo(message)


def echo(message: str) -> None:
    """A line of a command's output proper (what ``show`` shows): printed even with ``-q``."""
    click.echo(message)


def done(as_json: bool, message: str, **changed: Any) -> None:
    """What a write did: one JSON object with ``--json`` (even with ``-q``), else the success line."""
    if as_json:
        print_json(changed)
    else:
        say(message)


def shown_stage(raw: Any) -> str:
    """How every command names a stage or alias it moved, in its line and its ``--json``: MLflow's
    spelling for Staging, Production, Archived and "None", any other name (a stage registry.yaml
    declares, an alias) as the registry keeps it, lower case, which is how ``show`` and ``models``
    list it back. One rule, so ``promote``, ``demote``, ``rollback`` and ``alias`` agree."""
    from gitreg.names import Stage

    return Stage.parse(raw).shown


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


def show_library_warnings(*, verbose: bool = False) -> None:
    """Route the library's log (warnings and above; INFO too when ``verbose``) to stderr, once per process.
    (In :mod:`gitreg.cli.logs`, imported only when a command runs: ``gitreg --help`` skips logging.)"""
    from gitreg.cli.logs import show_library_warnings as show

    show(verbose=verbose)
