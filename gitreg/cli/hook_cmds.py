"""``gitreg hook``: install gitreg into a git server's hooks, and the hook entry points git runs."""

from __future__ import annotations

import click

from gitreg.cli.output import done, json_result_option, print_json, registry_option


@click.group()
def hook() -> None:
    """Server-side enforcement: install and run gitreg's git hooks."""


@hook.command("install")
@click.option("--pre-receive", "pre_receive", is_flag=True, required=True, help="Install the pre-receive hook.")
@click.option(
    "--allow-overrides",
    is_flag=True,
    help="Accept pushed promotions that record a policy override (Gitreg-Policy-Override); refused by default.",
)
@click.option("--force", is_flag=True, help="Replace an existing pre-receive hook gitreg did not install.")
@json_result_option
@click.argument("repo", type=click.Path(exists=True, file_okay=False))
def install(pre_receive: bool, allow_overrides: bool, force: bool, as_json: bool, repo: str) -> None:
    """Install a pre-receive hook into REPO (usually the bare repository a forge or file share serves).

    It refuses pushes that move a stage against the policy of main (as it was before the push),
    move or delete a version tag, or rewrite main's history, and prints the findings to the pusher.
    """
    from gitreg.hooks import install_pre_receive

    path = install_pre_receive(repo, allow_overrides=allow_overrides, force=force)
    done(
        as_json,
        f"Installed {path}: pushes to {repo} are now checked by gitreg.",
        hook=str(path),
        repository=repo,
        allow_overrides=allow_overrides,
    )


@hook.command("pre-receive")
@click.option("--allow-overrides", is_flag=True, help="Accept recorded policy overrides in pushed promotions.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the verdict and the problems found as one JSON object on stdout."
)
@registry_option
def pre_receive(allow_overrides: bool, as_json: bool, registry: str | None) -> None:
    """What the installed hook runs: read git's "OLD NEW REF" lines on stdin, print what the push
    would break and exit 1 to refuse it (0 lets it land). Run inside the receiving repository."""
    import os
    import sys
    from pathlib import Path

    from gitreg.hooks import run_pre_receive

    chosen = registry or (click.get_current_context().find_root().obj or {}).get("registry")
    root = chosen or os.environ.get("GIT_DIR", ".")
    findings = run_pre_receive(
        Path(root).absolute(),
        sys.stdin.read(),
        os.environ.get("GIT_QUARANTINE_PATH"),
        allow_overrides=allow_overrides,
    )
    if as_json:
        print_json({"accepted": not findings, "problems": [f.to_dict() for f in findings]})
    if not findings:
        return
    for f in findings:
        click.echo(f.line(), err=True)
    click.echo(f"gitreg: push refused: {len(findings)} problem(s) found.", err=True)
    raise SystemExit(1)
