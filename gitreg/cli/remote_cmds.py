"""Remote commands: clone, push, pull, sync, and reporting a promotion proposal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gitreg.cli.output import done, json_result_option, open_registry, registry_option, warn


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _describe(result: Any) -> str:
    parts = []
    if result.branches:
        parts.append(", ".join(result.branches))
    if result.tags:
        parts.append(_plural(len(result.tags), "tag"))
    return " and ".join(parts)


def _moved(result: Any) -> dict[str, Any]:
    """A transfer's result as JSON: what moved."""
    return {"changed": bool(result.changed), "branches": list(result.branches), "tags": list(result.tags)}


@click.command()
@click.argument("url")
@click.argument("path", required=False, type=click.Path(file_okay=False))
@json_result_option
def clone(url: str, path: str | None, as_json: bool) -> None:
    """Clone the registry at URL into PATH, with its stage branches and version tags."""
    from gitreg import sync
    from gitreg.registry.layout import TAG_PREFIX

    target = Path(path) if path else Path(url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git"))
    registry, _ = sync.clone(url, target)
    models = len(registry.model_names())
    stages = len(registry.stage_names())
    tags = len(registry.store.ref_oids(TAG_PREFIX))
    done(
        as_json,
        f"Cloned registry {url} into {registry.path} ({_plural(models, 'model')}, "
        f"{_plural(stages, 'stage branch')}, {_plural(tags, 'version tag')}).",
        url=url,
        path=str(registry.path),
        models=models,
        stages=stages,
        tags=tags,
    )


@click.command()
@json_result_option
@registry_option
def push(as_json: bool, registry: str | None) -> None:
    """Push this clone's new versions, stage moves and tags to origin (atomic)."""
    from gitreg import sync

    result = sync.push(open_registry(registry))
    message = (
        f"Pushed {_describe(result)} to {result.url}."
        if result.changed
        else f"Nothing to push: {result.url} already has everything this clone has."
    )
    done(as_json, message, url=result.url, **_moved(result))


@click.command()
@json_result_option
@registry_option
def pull(as_json: bool, registry: str | None) -> None:
    """Take origin's new versions, stage moves and tags; update the work tree."""
    from gitreg import sync

    result = sync.pull(open_registry(registry))
    warnings = list(result.warnings)
    warn(list(warnings))
    message = (
        f"Pulled {_describe(result)} from {result.url}." if result.changed else f"Already up to date with {result.url}."
    )
    done(as_json, message, url=result.url, **_moved(result), warnings=warnings)


@click.command()
@json_result_option
@registry_option
def sync(as_json: bool, registry: str | None) -> None:
    """Pull, then push: one command to bring this clone and origin level."""
    from gitreg import sync as syncing

    reg = open_registry(registry)
    pulled = syncing.pull(reg)
    warnings = list(pulled.warnings)
    warn(list(warnings))
    pushed = syncing.push(reg)
    said = [
        f"pulled {_describe(pulled)}" if pulled.changed else "",
        f"pushed {_describe(pushed)}" if pushed.changed else "",
    ]
    summary = "; ".join(s for s in said if s)
    done(
        as_json,
        f"Synced with {pushed.url}: {summary}." if summary else f"Already in step with {pushed.url}.",
        url=pushed.url,
        pulled=_moved(pulled),
        pushed=_moved(pushed),
        warnings=warnings,
    )


def propose_and_report(reg: Any, name: str, version: str, stage: str, *, push: bool, as_json: bool = False) -> None:
    """``gitreg promote --propose [--push]``: create the proposal branch, maybe push it, print one line
    (or, with ``--json``, one object)."""
    from gitreg import forge
    from gitreg.cli.output import shown_stage

    made = reg.propose(name, version, stage)
    shown = shown_stage(made.stage)
    remote_registry = getattr(reg.store, "url", None) is not None
    proposed = {
        "model": name,
        "version": made.version,
        "stage": shown,
        "proposal_branch": made.branch,
        "target": made.target,
        "commit": made.commit,
    }
    if not push and not remote_registry:
        done(
            as_json,
            f"Proposed {name} version {made.version} for {shown} on branch {made.branch} "
            f"(commit {made.commit[:7]} on {made.target}); push it with --push to open a pull request.",
            **proposed,
            pushed_to=None,
            pull_request_url=None,
        )
        return
    url = reg.push_proposal(made)
    link = forge.pull_request_url(url, made.branch, made.target)
    message = (
        f"Pushed {made.branch} to {url}; open the pull request: {link}"
        if link
        else f"Pushed {made.branch} to {url}; open a pull request from {made.branch} into {made.target}."
    )
    done(as_json, message, **proposed, pushed_to=url, pull_request_url=link)
