"""``gitreg rollback`` and ``gitreg proposals``: stage moves backwards, and the ones waiting for review."""

from __future__ import annotations

import click

from gitreg.cli.output import done, json_option, json_result_option, print_json, registry_option, say, table


@click.command()
@click.argument("name")
@click.argument("stage")
@click.option("--to", "to", default=None, metavar="VERSION", help="Roll back to this version (one the stage held).")
@click.option("--propose", is_flag=True, help="Put the rollback on a promote/ branch for review instead.")
@click.option("--push", "push_", is_flag=True, help="With --propose: push the branch and print the pull request URL.")
@click.option("--sign", is_flag=True, help="Sign the stage move commit with your git signing key (GPG or SSH).")
@click.option(
    "--override-policy",
    metavar="REASON",
    default=None,
    help="Roll back even if the stage's policy refuses the version; REASON is recorded in the commit.",
)
@json_result_option
@registry_option
def rollback(
    name: str,
    stage: str,
    to: str | None,
    propose: bool,
    push_: bool,
    sign: bool,
    override_policy: str | None,
    as_json: bool,
    registry: str | None,
) -> None:
    """Move STAGE of NAME back to the version it held before (from the stage branch's first-parent
    history), as one promotion commit: the stage's policy applies."""
    from gitreg.cli.output import open_registry, shown_stage
    from gitreg.names import check_stage_name, check_version
    from gitreg.registry.layout import stage_branch, stage_ref
    from gitreg.registry.rollback import rollback_target

    if push_ and not propose:
        raise click.UsageError("--push goes with --propose.")
    if propose and override_policy is not None:
        raise click.UsageError("--override-policy goes with a direct rollback; a proposal is checked in review.")
    reg = open_registry(registry)
    reg.store.sign_commits = True if sign else None
    wanted = check_version(to) if to is not None else None
    if propose:
        from gitreg.cli.remote_cmds import propose_and_report

        _, target = rollback_target(reg.reader, name, stage, wanted)
        propose_and_report(reg, name, str(target), stage, push=push_, as_json=as_json)
        return
    before, mv = reg.rollback(name, stage, to=wanted, override_policy=override_policy)
    was = f"version {before}" if before is not None else "no version"
    canonical, shown = check_stage_name(stage), shown_stage(stage)
    head = reg.store.ref(stage_ref(canonical)) or ""
    done(
        as_json,
        f"Rolled {name} in {shown} back from {was} to version {mv.version} "
        f"(branch {stage_branch(canonical)}, commit {head[:7]}).",
        model=name,
        version=mv.version,
        stage=shown,
        previous=before,
        branch=stage_branch(canonical),
        commit=head,
        changed=True,
    )


@click.command()
@json_option
@registry_option
def proposals(as_json: bool, registry: str | None) -> None:
    """List open proposals (promote/* branches not merged yet): the version, what the stage holds
    now, how the metrics change, and whether the stage's policy passes on the branch head."""
    from gitreg.cli.output import open_registry
    from gitreg.names import display_stage
    from gitreg.proposals import open_proposals

    found = open_proposals(open_registry(registry))
    if as_json:
        print_json([p.to_dict() for p in found])
        return
    if not found:
        say("No open proposals.")
        return
    rows = []
    for p in found:
        deltas = ", ".join(f"{m.key} {m.delta:+.4g}" for m in p.metrics if m.delta is not None) or "-"
        verdict = "problem: " + p.problem if p.problem else ("pass" if p.passes else f"fail ({len(p.findings)})")
        current = f"v{p.holder}" if p.holder is not None else "-"
        rows.append((p.branch, display_stage(p.stage), f"{p.name} v{p.version}", current, deltas, verdict))
    table(("BRANCH", "STAGE", "PROPOSED", "CURRENT", "METRICS", "POLICY"), rows)
    for p in found:
        for f in p.findings:
            click.echo(f.line())
