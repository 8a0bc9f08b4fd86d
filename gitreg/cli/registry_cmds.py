"""Registry commands: init, register, models, versions, show, promote, demote, history, delete."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from gitreg.cli.output import (
    json_option,
    key_values,
    open_registry,
    print_json,
    registry_option,
    say,
    table,
    when,
)

F = TypeVar("F", bound=Callable[..., Any])


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=False))
@click.option("--bare", is_flag=True, help="Create a bare repository (no work tree), e.g. to push to.")
def init(path: str, bare: bool) -> None:
    """Create a new registry at PATH (default: the current directory)."""
    from gitreg.registry import Registry

    reg = Registry.init(path, bare=bare)
    say(f"Initialised empty gitreg registry in {reg.path} (branch main, stages are branches stages/*).")


@click.command()
@click.argument("name")
@click.argument("source")
@click.option("--description", default=None, help="Description of this version.")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Version tag (repeatable).")
@click.option("--metric", "metrics", multiple=True, metavar="K=V", help="Metric to record (repeatable).")
@click.option("--param", "params", multiple=True, metavar="K=V", help="Parameter to record (repeatable).")
@click.option("--run-id", default=None, help="Run id to record with the version.")
@click.option("--sign", is_flag=True, help="Sign the version tag and commit with your git signing key (GPG or SSH).")
@registry_option
def register(
    name: str,
    source: str,
    description: str | None,
    tags: tuple[str, ...],
    metrics: tuple[str, ...],
    params: tuple[str, ...],
    run_id: str | None,
    sign: bool,
    registry: str | None,
) -> None:
    """Register SOURCE as the next version of model NAME.

    SOURCE is a saved model directory (gitreg's or MLflow's, with an MLmodel
    file), a runs:/ID/PATH URI, or a pickle file of a scikit-learn estimator.
    """
    from gitreg.saving import register as do_register

    metric_values = {}
    for k, v in key_values(metrics, "metric").items():
        try:
            metric_values[k] = float(v)
        except ValueError:
            raise click.BadParameter(f"{k}={v!r}: metric values must be numbers", param_hint="--metric") from None
    reg = open_registry(registry)
    reg.store.sign_commits = reg.store.sign_tags = True if sign else None  # None: follow git's *.gpgsign
    mv = do_register(
        source,
        name,
        tags=key_values(tags, "tag"),
        description=description,
        metrics=metric_values,
        params=key_values(params, "param"),
        run_id=run_id,
        registry=reg,
        quiet=True,
    )
    say(f"Created version '{mv.version}' of model '{mv.name}' (tag {mv.tag}, commit {mv.commit[:7]}).")


def _search_options(keys: str, default_order: str) -> Callable[[F], F]:
    """--order-by, --max-results and --page-token: MLflow's search paging, for ``models`` and ``versions``."""

    def add(f: F) -> F:
        f = click.option(
            "--page-token",
            default=None,
            metavar="TOKEN",
            help="Continue a search from the page a previous --max-results call ended at (its token).",
        )(f)
        f = click.option(
            "--max-results",
            type=int,
            default=None,
            metavar="N",
            help="Show at most N, then print the next page's token on stderr (default: all).",
        )(f)
        return click.option(
            "--order-by",
            "order_by",
            multiple=True,
            metavar="'KEY [ASC|DESC]'",
            help=f"Sort by KEY: {keys} (repeatable; default: {default_order}).",
        )(f)

    return add


def _pages(search: Callable[..., Any], max_results: int | None, page_token: str | None, limit: int) -> list[Any]:
    """One page when --max-results is given (its next token printed on stderr), else every page."""
    found: list[Any] = []
    token = page_token
    while True:
        page = search(max_results=limit if max_results is None else max_results, page_token=token)
        found.extend(page)
        token = page.token
        if token is None or max_results is not None:
            break
    if token is not None:
        click.echo(f"More results: repeat with --page-token {token}", err=True)
    return found


@click.command()
@click.option(
    "--filter",
    "filter_string",
    default=None,
    metavar="FILTER",
    help="MLflow filter on name and tags, e.g. \"name LIKE 'Log%'\" or \"tags.team = 'x' AND name != 'y'\".",
)
@_search_options("name, creation_timestamp, last_updated_timestamp", "name ASC")
@json_option
@registry_option
def models(
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int | None,
    page_token: str | None,
    as_json: bool,
    registry: str | None,
) -> None:
    """List registered models with their latest version and stages."""
    from gitreg.client import Client
    from gitreg.filters import MODELS

    client = Client(open_registry(registry))
    found = _pages(
        functools.partial(client.search_registered_models, filter_string, order_by=list(order_by) or None),
        max_results,
        page_token,
        MODELS.max_results,
    )
    if as_json:
        print_json([m.to_dict() for m in found])
        return
    if not found:
        if filter_string or page_token:
            say("No registered models match.")
        else:
            say("No registered models. Register one with 'gitreg register NAME SOURCE'.")
        return
    rows = []
    for m in found:
        latest = m.latest_versions[0].version if m.latest_versions else "-"
        stages = ", ".join(f"{s}: v{v}" for s, v in m.aliases.items()) or "-"
        rows.append((m.name, latest, stages, when(m.last_updated_timestamp), (m.description or "").split("\n")[0][:50]))
    table(("NAME", "LATEST", "STAGES", "UPDATED", "DESCRIPTION"), rows)


def _version_rows(versions: list) -> list[tuple]:
    rows = []
    for v in versions:
        stages = ", ".join([*([v.current_stage] if v.current_stage != "None" else []), *v.aliases]) or "-"
        metrics = ", ".join(f"{k}={val:.4g}" for k, val in sorted(v.metrics.items())[:3]) or "-"
        rows.append((v.version, stages, metrics, when(v.creation_timestamp), v.user_id.split(" <")[0], v.commit[:7]))
    return rows


@click.command()
@click.argument("name")
@click.option(
    "--filter",
    "filter_string",
    default=None,
    metavar="FILTER",
    help='MLflow filter on version_number, run_id, source_path and tags, e.g. "version_number > 2 AND '
    "tags.validated = 'yes'\".",
)
@_search_options("version_number, creation_timestamp, last_updated_timestamp", "version_number ASC")
@json_option
@registry_option
def versions(
    name: str,
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int | None,
    page_token: str | None,
    as_json: bool,
    registry: str | None,
) -> None:
    """List the versions of model NAME, oldest first (or as --order-by says)."""
    from gitreg.client import Client
    from gitreg.filters import VERSIONS, parse_version_filter

    reg = open_registry(registry)
    reg.record(name)  # a model that does not exist is an error, not an empty list
    if filter_string:
        parse_version_filter(filter_string)  # refused with positions in what the user typed
    search = functools.partial(
        Client(reg).search_model_versions,
        f"name = '{name}'" + (f" AND {filter_string}" if filter_string else ""),
        order_by=list(order_by) or ["version_number ASC"],
    )
    found = _pages(search, max_results, page_token, VERSIONS.max_results)
    if as_json:
        print_json([v.to_dict() for v in found])
        return
    if not found:
        say(
            f"No versions of model '{name}' match."
            if filter_string or page_token
            else f"Model '{name}' has no versions yet."
        )
        return
    table(("VERSION", "STAGES", "METRICS", "CREATED", "AUTHOR", "COMMIT"), _version_rows(found))


@click.command()
@click.argument("target", metavar="NAME|URI")
@json_option
@registry_option
def show(target: str, as_json: bool, registry: str | None) -> None:
    """Show a registered model, or the version a models:/ URI resolves to."""
    from gitreg import uri as uris

    reg = open_registry(registry)
    if not target.startswith("models:"):
        model = reg.get_model(target)
        if as_json:
            print_json(model.to_dict())
            return
        say(f"Model:        {model.name}")
        say(f"Description:  {model.description or '-'}")
        say(f"Tags:         {', '.join(f'{k}={v}' for k, v in model.tags.items()) or '-'}")
        say(f"Stages:       {', '.join(f'{s}: v{v}' for s, v in model.aliases.items()) or '-'}")
        say(f"Latest:       {model.latest_versions[0].version if model.latest_versions else '-'}")
        return
    resolved = reg.resolve(uris.parse(target))
    mv = reg.model_version(resolved.ref)
    if as_json:
        print_json({**mv.to_dict(), "resolved_from": resolved.via, "uri": target})
        return
    stages = ", ".join([*([mv.current_stage] if mv.current_stage != "None" else []), *mv.aliases]) or "-"
    lines = [
        ("Model", mv.name),
        ("Version", f"{mv.version}  (resolved from {resolved.via})"),
        ("Stages", stages),
        ("Flavor", mv.flavor),
        ("Created", f"{when(mv.creation_timestamp)} by {mv.user_id}"),
        ("Tag", f"{mv.tag} -> commit {mv.commit[:12]}"),
        ("Run id", mv.run_id or "-"),
        ("Source", mv.source or "-"),
        ("Description", mv.description or "-"),
        ("Tags", ", ".join(f"{k}={v}" for k, v in mv.tags.items()) or "-"),
        ("Metrics", ", ".join(f"{k}={v:.6g}" for k, v in sorted(mv.metrics.items())) or "-"),
        ("Params", ", ".join(f"{k}={v}" for k, v in sorted(mv.params.items())) or "-"),
    ]
    if mv.signature is not None:
        cols = mv.signature.to_dict()["inputs"]
        lines.append(("Signature", ", ".join(f"{c.get('name', '?')}: {c['type']}" for c in cols)))
    if mv.git_commit:
        dirty = " (dirty)" if mv.git_dirty else ""
        lines.append(("Trained at", f"{mv.git_commit[:12]}{dirty} {mv.git_remote or ''}".rstrip()))
    for k, v in lines:
        say(f"{k + ':':<13} {v}")


@click.command()
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@click.option("--archive-existing", is_flag=True, help="Move the version STAGE held before to Archived.")
@click.option("--sign", is_flag=True, help="Sign the stage move commit with your git signing key (GPG or SSH).")
@click.option(
    "--propose",
    is_flag=True,
    help="Leave STAGE alone; put the change on branch promote/STAGE/NAME-vVERSION for review.",
)
@click.option("--push", "push_", is_flag=True, help="With --propose: push the branch and print the pull request URL.")
@registry_option
def promote(
    name: str,
    version: str,
    stage: str,
    archive_existing: bool,
    sign: bool,
    propose: bool,
    push_: bool,
    registry: str | None,
) -> None:
    """Move VERSION of NAME to STAGE (Staging, Production, Archived, None or any alias)."""
    from gitreg.names import Stage, check_version
    from gitreg.registry.layout import stage_branch, stage_ref

    reg = open_registry(registry)
    reg.store.sign_commits = True if sign else None  # None: follow git's commit.gpgsign
    if push_ and not propose:
        raise click.UsageError("--push goes with --propose (a direct promotion of a remote registry is pushed anyway).")
    if propose:
        from gitreg.cli.remote_cmds import propose_and_report

        propose_and_report(reg, name, version, stage, push=push_)
        return
    target, number = Stage.parse(stage), check_version(version)
    before = None if target.is_none else reg.stages_of(name).get(target.name)
    head_before = None if target.is_none else reg.store.ref(stage_ref(target.name))
    mv = reg.promote(name, number, target, archive_existing=archive_existing)
    if target.is_none:
        say(f"Moved {name} version {mv.version} out of every stage.")
        return
    head = reg.store.ref(stage_ref(target.name)) or ""
    if before == mv.version and head == head_before:
        say(f"{name} version {mv.version} is already in {target}; nothing changed.")
    elif before == mv.version:  # the same version, promoted again as a signed commit
        say(
            f"Promoted {name} version {mv.version} to {target} again "
            f"(signed commit {head[:7]} on {stage_branch(target.name)})."
        )
    else:
        was = f" (was version {before})" if before else ""
        say(
            f"Promoted {name} version {mv.version} to {target}{was} "
            f"(branch {stage_branch(target.name)}, commit {head[:7]})."
        )


@click.command()
@click.argument("name")
@click.argument("stage")
@registry_option
def demote(name: str, stage: str, registry: str | None) -> None:
    """Remove model NAME from STAGE, leaving the stage without a version of it."""
    from gitreg.names import check_stage_name, display_stage

    held = open_registry(registry).demote(name, stage)
    shown = display_stage(check_stage_name(stage))
    if held is None:
        say(f"{name} has no version in {shown}; nothing changed.")
    else:
        say(f"Removed {name} version {held} from {shown}.")


@click.command()
@click.argument("name")
@click.option("--stage", "stages", multiple=True, help="Only moves of this stage (repeatable).")
@json_option
@registry_option
def history(name: str, stages: tuple[str, ...], as_json: bool, registry: str | None) -> None:
    """Registrations and stage moves of model NAME, newest first."""
    from gitreg.history import model_history

    events = model_history(open_registry(registry), name, stages=list(stages) or None)
    if as_json:
        print_json([e.to_dict() for e in events])
        return
    rows = [(when(e.time, seconds=True), e.event, e.describe(), e.author.split(" <")[0], e.commit[:7]) for e in events]
    table(("TIME", "EVENT", "WHAT", "AUTHOR", "COMMIT"), rows)


@click.command()
@click.argument("name")
@click.argument("version", required=False)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@registry_option
def delete(name: str, version: str | None, yes: bool, registry: str | None) -> None:
    """Delete VERSION of NAME, or the whole model when no VERSION is given.

    Tags stay in git history and version numbers are never reused.
    """
    reg = open_registry(registry)
    what = f"version {version} of model '{name}'" if version else f"model '{name}' and all its versions"
    if not yes and not click.confirm(f"Delete {what}?", default=False):
        raise click.Abort()
    if version:
        reg.delete_version(name, version)
    else:
        reg.delete_model(name)
    say(f"Deleted {what}.")
