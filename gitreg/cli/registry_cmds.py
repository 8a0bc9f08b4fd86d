"""Registry commands: init, register, models, versions, show, promote, demote, history, delete."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from gitreg.cli.output import (
    done,
    echo,
    json_option,
    json_result_option,
    key_values,
    open_registry,
    print_json,
    registry_option,
    say,
    table,
    when,
)

F = TypeVar("F", bound=Callable[..., Any])


# -- shell completion (``_GITREG_COMPLETE=bash_source gitreg``): names read from the registry --------------


def _completion_registry(ctx: click.Context) -> Any:
    """The registry the command line being completed names (-r on the command or the group), else the usual one."""
    from gitreg.locate import open_registry as _open

    return _open(ctx.params.get("registry") or ctx.find_root().params.get("registry"))


def _completions(ctx: click.Context, incomplete: str, candidates: Callable[[Any], list[str]]) -> list[str]:
    """The candidates starting with ``incomplete`` (case-insensitively); none when the registry cannot be read:
    a completion never prints an error into the user's prompt."""
    from gitreg.errors import GitregError

    try:
        found = candidates(_completion_registry(ctx))
    except (GitregError, OSError, ValueError):
        return []
    return [c for c in found if c.lower().startswith(incomplete.lower())]


def complete_model(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return _completions(ctx, incomplete, lambda reg: reg.model_names())


def complete_model_or_uri(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """NAME or models:/NAME/, then, after models:/NAME/, its versions, latest and the stages it is in."""
    prefix = "models:/"

    def candidates(reg: Any) -> list[str]:
        names = reg.model_names()
        rest = incomplete[len(prefix) :] if incomplete.startswith(prefix) else None
        if rest is None or "/" not in rest:
            return [*names, *(f"{prefix}{n}/" for n in names)]
        name = rest.split("/", 1)[0]
        refs = [*map(str, reg.version_numbers(name)), "latest", *(_shown_stage(s) for s in reg.stages_of(name))]
        return [f"{prefix}{name}/{r}" for r in refs]

    return _completions(ctx, incomplete, candidates)


def complete_version(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    name = ctx.params.get("name")
    return _completions(ctx, incomplete, lambda reg: [str(v) for v in reg.version_numbers(name)] if name else [])


def _shown_stage(stage: str) -> str:
    from gitreg.names import display_stage

    return display_stage(stage)


def complete_stage(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The registry's declared stages (MLflow's three, registry.yaml's), and None."""
    from gitreg.names import FIXED_STAGES

    def declared(reg: Any) -> list[str]:
        return list(dict.fromkeys([*FIXED_STAGES, *(_shown_stage(s) for s in reg.config().stages), "None"]))

    return _completions(ctx, incomplete, declared)


def complete_held_stage(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The stages model NAME has a version in (for demote)."""
    name = ctx.params.get("name")
    return _completions(ctx, incomplete, lambda reg: [_shown_stage(s) for s in reg.stages_of(name)] if name else [])


@click.command()
@click.argument("path", default=".", type=click.Path(file_okay=False))
@click.option("--bare", is_flag=True, help="Create a bare repository (no work tree), e.g. to push to.")
@json_result_option
def init(path: str, bare: bool, as_json: bool) -> None:
    """Create a new registry at PATH (default: the current directory)."""
    from gitreg.registry import Registry
    from gitreg.registry.layout import MAIN_BRANCH

    reg = Registry.init(path, bare=bare)
    done(
        as_json,
        f"Initialised empty gitreg registry in {reg.path} (branch main, stages are branches stages/*).",
        path=str(reg.path),
        bare=bare,
        branch=MAIN_BRANCH,
    )


@click.command()
@click.argument("name")
@click.argument("source")
@click.option("--description", default=None, help="Description of this version.")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Version tag (repeatable).")
@click.option("--metric", "metrics", multiple=True, metavar="K=V", help="Metric to record (repeatable).")
@click.option("--param", "params", multiple=True, metavar="K=V", help="Parameter to record (repeatable).")
@click.option("--run-id", default=None, help="Run id to record with the version.")
@click.option("--sign", is_flag=True, help="Sign the version tag and commit with your git signing key (GPG or SSH).")
@json_result_option
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
    as_json: bool,
    registry: str | None,
) -> None:
    """Register SOURCE as the next version of model NAME.

    SOURCE is a saved model directory (gitreg's or MLflow's, with an MLmodel
    file), a runs:/ID/PATH URI, or a pickle file of a scikit-learn estimator.
    """
    from gitreg.cli.progress import on_terminal
    from gitreg.saving import register as do_register

    metric_values = {}
    for k, v in key_values(metrics, "metric").items():
        try:
            metric_values[k] = float(v)
        except ValueError:
            raise click.BadParameter(f"{k}={v!r}: metric values must be numbers", param_hint="--metric") from None
    reg = open_registry(registry)
    reg.store.sign_commits = reg.store.sign_tags = True if sign else None  # None: follow git's *.gpgsign
    with on_terminal(as_json):  # hashing and writing big artifacts, on a terminal only
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
    done(
        as_json,
        f"Created version '{mv.version}' of model '{mv.name}' (tag {mv.tag}, commit {mv.commit[:7]}).",
        model=mv.name,
        version=mv.version,
        tag=mv.tag,
        commit=mv.commit,
        uri=f"models:/{mv.name}/{mv.version}",
    )


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
@click.argument("name", shell_complete=complete_model)
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
@click.argument("target", metavar="NAME|URI", shell_complete=complete_model_or_uri)
@click.option("--as-of", metavar="INSTANT", help="With a stage URI: what the stage held then (ISO 8601).")
@json_option
@registry_option
def show(target: str, as_of: str | None, as_json: bool, registry: str | None) -> None:
    """Show a registered model, or the version a models:/ URI resolves to.

    A stage URI may name a past instant, models:/M/Production@2026-11-01T12:00Z, or take
    --as-of: what the stage held then, from the stage branch's history."""
    from gitreg import uri as uris

    reg = open_registry(registry)
    if as_of is not None:
        if not target.startswith("models:"):
            raise click.UsageError("--as-of goes with a stage URI: 'gitreg show models:/M/Production --as-of DATE'.")
        target = str(uris.at_instant(uris.parse(target), uris.parse_instant(as_of)))
    if not target.startswith("models:"):
        model = reg.get_model(target)
        if as_json:
            print_json(model.to_dict())
            return
        echo(f"Model:        {model.name}")
        echo(f"Description:  {model.description or '-'}")
        echo(f"Tags:         {', '.join(f'{k}={v}' for k, v in model.tags.items()) or '-'}")
        echo(f"Stages:       {', '.join(f'{s}: v{v}' for s, v in model.aliases.items()) or '-'}")
        echo(f"Latest:       {model.latest_versions[0].version if model.latest_versions else '-'}")
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
        echo(f"{k + ':':<13} {v}")


@click.command()
@click.argument("name", shell_complete=complete_model)
@click.argument("version", shell_complete=complete_version)
@click.argument("stage", shell_complete=complete_stage)
@click.option("--archive-existing", is_flag=True, help="Move the version STAGE held before to Archived.")
@click.option("--sign", is_flag=True, help="Sign the stage move commit with your git signing key (GPG or SSH).")
@click.option(
    "--propose",
    is_flag=True,
    help="Leave STAGE alone; put the change on branch promote/STAGE/NAME-vVERSION for review.",
)
@click.option("--push", "push_", is_flag=True, help="With --propose: push the branch and print the pull request URL.")
@click.option(
    "--override-policy",
    metavar="REASON",
    default=None,
    help="Promote even if the stage's policy refuses it; REASON is recorded in the commit (Gitreg-Policy-Override).",
)
@json_result_option
@registry_option
def promote(
    name: str,
    version: str,
    stage: str,
    archive_existing: bool,
    sign: bool,
    propose: bool,
    push_: bool,
    override_policy: str | None,
    as_json: bool,
    registry: str | None,
) -> None:
    """Move VERSION of NAME to STAGE (Staging, Production, Archived, None, or a stage registry.yaml declares)."""
    from gitreg.names import Stage, check_version
    from gitreg.registry.layout import stage_ref

    reg = open_registry(registry)
    reg.store.sign_commits = True if sign else None  # None: follow git's commit.gpgsign
    if push_ and not propose:
        raise click.UsageError("--push goes with --propose (a direct promotion of a remote registry is pushed anyway).")
    if override_policy is not None and propose:
        raise click.UsageError("--override-policy goes with a direct promotion; a proposal is checked in review.")
    if propose:
        from gitreg.cli.remote_cmds import propose_and_report

        propose_and_report(reg, name, version, stage, push=push_, as_json=as_json)
        return
    target, number = Stage.parse(stage), check_version(version)
    before = None if target.is_none else reg.stages_of(name).get(target.name)
    head_before = None if target.is_none else reg.store.ref(stage_ref(target.name))
    mv = reg.promote(name, number, target, archive_existing=archive_existing, override_policy=override_policy)
    _report_promotion(reg, as_json, name, mv.version, target, before, head_before)


def _report_promotion(
    reg: Any, as_json: bool, name: str, version: int, target: Any, before: int | None, head_before: str | None
) -> None:
    """Say what a direct promotion did: the stage's new head, or that nothing changed (the same
    version, unsigned again), or that the version was signed into the stage again."""
    from gitreg.cli.output import shown_stage
    from gitreg.registry.layout import stage_branch, stage_ref

    shown = shown_stage(target)
    if target.is_none:
        message = f"Moved {name} version {version} out of every stage."
        done(as_json, message, model=name, version=version, stage=shown, changed=True)
        return
    head = reg.store.ref(stage_ref(target.name)) or ""
    branch = stage_branch(target.name)
    if before == version and head == head_before:
        message = f"{name} version {version} is already in {shown}; nothing changed."
    elif before == version:  # the same version, promoted again as a signed commit
        message = f"Promoted {name} version {version} to {shown} again (signed commit {head[:7]} on {branch})."
    else:
        was = f" (was version {before})" if before else ""
        message = f"Promoted {name} version {version} to {shown}{was} (branch {branch}, commit {head[:7]})."
    done(
        as_json,
        message,
        model=name,
        version=version,
        stage=shown,
        previous=before,
        branch=branch,
        commit=head,
        changed=head != head_before,
    )


@click.command()
@click.argument("name", shell_complete=complete_model)
@click.argument("stage", shell_complete=complete_held_stage)
@json_result_option
@registry_option
def demote(name: str, stage: str, as_json: bool, registry: str | None) -> None:
    """Remove model NAME from STAGE, leaving the stage without a version of it."""
    from gitreg.cli.output import shown_stage

    held = open_registry(registry).demote(name, stage)
    shown = shown_stage(stage)
    message = (
        f"{name} has no version in {shown}; nothing changed."
        if held is None
        else f"Removed {name} version {held} from {shown}."
    )
    done(as_json, message, model=name, stage=shown, previous=held, changed=held is not None)


@click.group()
def alias() -> None:
    """Point a model's aliases (champion, challenger, ...) at versions: models:/NAME@ALIAS."""


@alias.command("set")
@click.argument("name", shell_complete=complete_model)
@click.argument("alias_name", metavar="ALIAS", shell_complete=complete_held_stage)
@click.argument("version", shell_complete=complete_version)
@json_result_option
@registry_option
def alias_set(name: str, alias_name: str, version: str, as_json: bool, registry: str | None) -> None:
    """Point ALIAS of model NAME at VERSION (an alias is any name that is not a stage)."""
    from gitreg.cli.output import shown_stage
    from gitreg.names import check_version

    reg = open_registry(registry)
    before = reg.stages_of(name).get(alias_name.lower())  # the library refuses a name that is no alias
    mv = reg.set_alias(name, alias_name, check_version(version))
    shown = shown_stage(alias_name)
    done(
        as_json,
        f"Alias {shown} of {name} now names version {mv.version} (models:/{name}@{shown}).",
        model=name,
        alias=shown,
        version=mv.version,
        previous=before,
        uri=f"models:/{name}@{shown}",
    )


@alias.command("delete")
@click.argument("name", shell_complete=complete_model)
@click.argument("alias_name", metavar="ALIAS", shell_complete=complete_held_stage)
@json_result_option
@registry_option
def alias_delete(name: str, alias_name: str, as_json: bool, registry: str | None) -> None:
    """Remove ALIAS from model NAME."""
    from gitreg.cli.output import shown_stage

    held = open_registry(registry).delete_alias(name, alias_name)
    shown = shown_stage(alias_name)
    done(as_json, f"Removed alias {shown} of {name} (it named version {held}).", model=name, alias=shown, previous=held)


@click.command()
@click.argument("name", shell_complete=complete_model)
@click.option(
    "--stage",
    "stages",
    multiple=True,
    shell_complete=complete_held_stage,
    help="Only moves of this stage (repeatable).",
)
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
@click.argument("name", shell_complete=complete_model)
@click.argument("version", required=False, shell_complete=complete_version)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@json_result_option
@registry_option
def delete(name: str, version: str | None, yes: bool, as_json: bool, registry: str | None) -> None:
    """Delete VERSION of NAME, or the whole model when no VERSION is given.

    Tags stay in git history and version numbers are never reused.
    """
    from gitreg.names import check_version

    reg = open_registry(registry)
    what = f"version {version} of model '{name}'" if version else f"model '{name}' and all its versions"
    if not yes and not click.confirm(f"Delete {what}?", default=False, err=True):  # stdout stays the result
        raise click.Abort()
    if version:
        reg.delete_version(name, version)
    else:
        reg.delete_model(name)
    number = None if version is None else check_version(version)
    done(as_json, f"Deleted {what}.", model=name, version=number, deleted="version" if version else "model")
