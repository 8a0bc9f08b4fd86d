"""Remote commands: clone, push, pull, sync, and reporting a promotion proposal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gitreg.cli.output import open_registry, registry_option, say, warn


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _describe(result: Any) -> str:
    parts = []
    if result.branches:
        parts.append(", ".join(result.branches))
    if result.tags:
        parts.append(_plural(len(result.tags), "tag"))
    return " and ".join(parts)


@click.command()
@click.argument("url")
@click.argument("path", required=False, type=click.Path(file_okay=False))
def clone(url: str, path: str | None) -> None:
    """Clone the registry at URL into PATH, with its stage branches and version tags."""
    from gitreg import sync
    from gitreg.registry.layout import TAG_PREFIX

    target = Path(path) if path else Path(url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git"))
    registry, _ = sync.clone(url, target)
    models = len(registry.model_names())
    stages = len(registry.stage_names())
    tags = len(registry.store.ref_oids(TAG_PREFIX))
    say(
        f"Cloned registry {url} into {registry.path} ({_plural(models, 'model')}, "
        f"{_plural(stages, 'stage branch')}, {_plural(tags, 'version tag')})."
    )


@click.command()
@registry_option
def push(registry: str | None) -> None:
    """Push this clone's new versions, stage moves and tags to origin (atomic)."""
    from gitreg import sync

    result = sync.push(open_registry(registry))
    if result.changed:
        say(f"Pushed {_describe(result)} to {result.url}.")
    else:
        say(f"Nothing to push: {result.url} already has everything this clone has.")


@click.command()
@registry_option
def pull(registry: str | None) -> None:
    """Take origin's new versions, stage moves and tags; update the work tree."""
    from gitreg import sync

    result = sync.pull(open_registry(registry))
    warn(list(result.warnings))
    if result.changed:
        say(f"Pulled {_describe(result)} from {result.url}.")
    else:
        say(f"Already up to date with {result.url}.")


@click.command()
@registry_option
def sync(registry: str | None) -> None:
    """Pull, then push: one command to bring this clone and origin level."""
    from gitreg import sync as syncing

    reg = open_registry(registry)
    pulled = syncing.pull(reg)
    warn(list(pulled.warnings))
    pushed = syncing.push(reg)
    said = [
        f"pulled {_describe(pulled)}" if pulled.changed else "",
        f"pushed {_describe(pushed)}" if pushed.changed else "",
    ]
    done = "; ".join(s for s in said if s)
    say(f"Synced with {pushed.url}: {done}." if done else f"Already in step with {pushed.url}.")


def propose_and_report(reg: Any, name: str, version: str, stage: str, *, push: bool) -> None:
    """``gitreg promote --propose [--push]``: create the proposal branch, maybe push it, print one line."""
    from gitreg import forge
    from gitreg.names import display_stage

    made = reg.propose(name, version, stage)
    shown = display_stage(made.stage)
    remote_registry = getattr(reg.store, "url", None) is not None
    if not push and not remote_registry:
        say(
            f"Proposed {name} version {made.version} for {shown} on branch {made.branch} "
            f"(commit {made.commit[:7]} on {made.target}); push it with --push to open a pull request."
        )
        return
    url = reg.push_proposal(made)
    link = forge.pull_request_url(url, made.branch, made.target)
    if link:
        say(f"Pushed {made.branch} to {url}; open the pull request: {link}")
    else:
        say(f"Pushed {made.branch} to {url}; open a pull request from {made.branch} into {made.target}.")
