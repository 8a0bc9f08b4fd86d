"""GitOps commands: diff (what changed between versions) and check (CI verification)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gitreg.cli.output import json_option, open_registry, print_json, registry_option, say, table

if TYPE_CHECKING:
    from gitreg.diff import VersionDiff


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return str(n)


@click.command()
@click.argument("args", nargs=-1, required=True, metavar="NAME V1 V2 | URI URI")
@click.option("--all", "show_all", is_flag=True, help="Also list what did not change.")
@json_option
@registry_option
def diff(args: tuple[str, ...], show_all: bool, as_json: bool, registry: str | None) -> None:
    """Compare two versions: metrics (with deltas), params, signature, tags,
    requirements and artifacts.

    Either NAME V1 V2 (two versions of one model) or two models:/ URIs, which
    may name stages, aliases or another model (models:/M/Staging models:/M/Production).
    """
    from gitreg import uri as uris
    from gitreg.diff import diff_versions

    reg = open_registry(registry)
    if len(args) == 3 and not args[0].startswith("models:"):
        name, v1, v2 = args
        a, b = reg.version_ref(name, v1), reg.version_ref(name, v2)
    elif len(args) == 2 and all(x.startswith("models:") for x in args):
        a, b = (reg.resolve(uris.parse(x)).ref for x in args)
    else:
        raise click.UsageError("Give NAME V1 V2 or two models:/ URIs, e.g. 'gitreg diff iris 1 2'.")
    d = diff_versions(reg, a, b)
    if as_json:
        print_json(d.to_dict())
        return
    title = f"{a.name} v{a.version} -> {b.name} v{b.version}"
    if d.identical:
        say(f"{title}: no differences.")
        return
    say(f"{title}:")
    table(("WHAT", "KEY", f"v{a.version}", f"v{b.version}", "CHANGE"), _diff_rows(d, show_all))


def _diff_rows(d: VersionDiff, show_all: bool) -> list[tuple[str, str, str, str, str]]:
    """The table rows of a diff: what changed (everything with ``show_all``)."""
    rows: list[tuple[str, str, str, str, str]] = []
    if d.flavor_changed or show_all:
        rows.append(("flavor", "", d.flavor[0], d.flavor[1], ""))
    if d.signature_changed:
        rows.append(("signature", "", _sig(d.signature[0]), _sig(d.signature[1]), "changed"))
    for m in d.metrics:
        if m.status != "same" or show_all:
            delta = "" if m.delta is None else f"{m.delta:+.6g}"
            rows.append(("metric", m.key, _num(m.old), _num(m.new), delta or m.status))
    for group, changes in (("param", d.params), ("tag", d.tags), ("requirement", d.requirements)):
        for c in changes:
            if c.status != "same" or show_all:
                rows.append((group, c.key, c.old or "-", c.new or "-", c.status))
    for art in d.artifacts:
        if art.status != "same" or show_all:
            rows.append(("artifact", art.path, _size(art.old_size), _size(art.new_size), art.status))
    return rows


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.6g}"


def _sig(sig: dict | None) -> str:
    if not sig:
        return "-"
    cols = sig.get("inputs") or []
    return ", ".join(f"{c.get('name', '?')}: {c.get('type')}" for c in cols)[:60]


@click.command()
@click.option("--ref", default=None, help="Ref under review, e.g. a pull request's head (default with --base: HEAD).")
@click.option(
    "--base",
    default=None,
    help="Trusted ref the review would update, e.g. origin/stages/production; policy is read there.",
)
@click.option("--no-fetch", is_flag=True, help="Never fetch; report a partial checkout instead of completing it.")
@click.option(
    "--staged",
    is_flag=True,
    help="Check what the index would commit on the checked-out branch (for a pre-commit hook).",
)
@click.option(
    "--deny-overrides",
    is_flag=True,
    help="Report policy violations even where the promotion commit records an override.",
)
@json_option
@registry_option
def check(
    ref: str | None,
    base: str | None,
    no_fetch: bool,
    staged: bool,
    deny_overrides: bool,
    as_json: bool,
    registry: str | None,
) -> None:
    """Verify manifests, artifacts, tags, stage branches and the promotion policy.

    Exits 0 when everything holds, else 4 with one line per finding
    (file: rule: model version: message). Meant for CI on pull requests to
    stages/* (gitreg check --base origin/stages/production) and pre-commit.
    """
    import os
    from pathlib import Path

    from gitreg.check import check_registry, check_staged
    from gitreg.cli.errors import EXIT_FINDINGS
    from gitreg.errors import NoRegistryError
    from gitreg.locate import get_registry
    from gitreg.store import GitStore

    location = registry or (click.get_current_context().find_root().obj or {}).get("registry") or get_registry()
    if not location:
        raise NoRegistryError()
    store = GitStore.open(Path(location.removeprefix("file://")))
    try:
        if staged:
            if ref or base:
                raise click.UsageError("--staged checks the index; it does not take --ref or --base.")
            index = os.environ.get("GIT_INDEX_FILE")  # what git gives a hook for 'commit -a' and 'commit PATH'
            findings = check_staged(store, index_file=Path(index).absolute() if index else None, fetch=not no_fetch)
        else:
            findings = check_registry(store, ref=ref, base=base, fetch=not no_fetch, allow_overrides=not deny_overrides)
    finally:
        store.close()
    if as_json:
        print_json([f.to_dict() for f in findings])
    else:
        for f in findings:
            click.echo(f.line())
        if findings:
            click.echo(f"gitreg check: {len(findings)} problem(s) found.", err=True)
        else:
            say("gitreg check: all manifests, artifacts, tags, stages and policies hold.")
    if findings:
        raise SystemExit(EXIT_FINDINGS)
