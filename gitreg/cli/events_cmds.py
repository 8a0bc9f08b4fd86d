"""``gitreg events`` and ``gitreg notify``: what changed in the registry, and telling webhooks about it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gitreg.cli.output import json_option, json_result_option, open_registry, print_json, registry_option, say, table

if TYPE_CHECKING:
    from gitreg.events import State


def _state(reg: Any, spec: str) -> State:
    """A state named on the command line: ``now``, a delivery ledger's name, or an ISO 8601 instant."""
    from gitreg import events, notify, uri

    if spec == "now":
        return events.current_state(reg.store)
    ledger = notify.read_ledger(reg.reader, spec) if spec.replace("-", "").isalnum() else None
    if ledger is not None:
        return ledger.state
    return events.state_at(reg.store, uri.parse_instant(spec))


@click.command()
@click.option("--since", metavar="LEDGER|DATE", help="Events since a ledger's state (e.g. default) or an instant.")
@click.option("--between", nargs=2, metavar="OLD NEW", help="Events between two states (LEDGER, DATE or now).")
@json_option
@registry_option
def events(since: str | None, between: tuple[str, str] | None, as_json: bool, registry: str | None) -> None:
    """List the registry events between two states, derived from git history: versions created and
    deleted, stage transitions, aliases, tags and descriptions (MLflow 3's webhook event names)."""
    from gitreg.events import events_between

    if (since is None) == (not between):
        raise click.UsageError("Give --since LEDGER|DATE or --between OLD NEW (each a ledger, an instant or 'now').")
    reg = open_registry(registry)
    if since is not None:
        old, new = _state(reg, since), _state(reg, "now")
    else:
        assert between is not None
        old, new = _state(reg, between[0]), _state(reg, between[1])
    found = events_between(reg.reader, old, new)
    if as_json:
        print_json([e.to_dict() for e in found])
        return
    if not found:
        say("No events.")
        return
    rows = [(e.kind.value, e.data.get("name", ""), str(e.data.get("version", "")), _detail(e.data)) for e in found]
    table(("EVENT", "MODEL", "VERSION", "DETAIL"), rows)


def _detail(data: dict[str, Any]) -> str:
    keys = ("stage", "previous_version", "previous_stage", "alias", "key", "value", "description")
    return " ".join(f"{k}={data[k]}" for k in keys if data.get(k) is not None)


@click.command()
@click.option("--url", default=None, help="Send to this URL (else every webhook under 'webhooks:' in registry.yaml).")
@click.option(
    "--secret-env",
    default="GITREG_WEBHOOK_SECRET",
    show_default=True,
    metavar="VAR",
    help="With --url: the environment variable holding the signing secret (unsigned if unset).",
)
@click.option("--event", "kinds", multiple=True, metavar="NAME", help="With --url: send only these events.")
@click.option("--ledger", default="default", show_default=True, help="With --url: the delivery ledger to use.")
@click.option("--since", metavar="DATE", help="Restart the ledger at this instant and send everything since.")
@click.option("--attempts", default=5, show_default=True, type=click.IntRange(1), help="Tries per event.")
@json_result_option
@registry_option
def notify(
    url: str | None,
    secret_env: str,
    kinds: tuple[str, ...],
    ledger: str,
    since: str | None,
    attempts: int,
    as_json: bool,
    registry: str | None,
) -> None:
    """POST the events since the last notification to webhooks, as MLflow 3 does (X-MLflow-Signature,
    HMAC-SHA256), each once: a delivery ledger (ref refs/gitreg/notified/LEDGER) records what was
    delivered. Run it from a post-receive hook, CI or a timer; it never blocks a write. Exits 1 when
    a receiver stayed unreachable; the next run resumes where this one stopped."""
    import os

    from gitreg import events, notify, uri

    reg = open_registry(registry)
    if url is not None:
        secret = os.environ.get(secret_env) or None
        chosen = notify.parse_kinds(kinds, "--event") if kinds else None
        hooks = [notify.Webhook(url, secret, chosen, ledger)]
    else:
        hooks = notify.webhooks_from_config(reg.config(), os.environ)
        if not hooks:
            raise click.UsageError("Give --url URL, or list receivers under 'webhooks:' in registry.yaml on main.")
    start = events.state_at(reg.store, uri.parse_instant(since)) if since else None
    retry = notify.DeliveryRetry(attempts=attempts)
    sent = []
    for hook in hooks:
        result = notify.notify(reg.reader, hook, since=start, retry=retry)
        sent.append(_delivery(hook, result))
        if as_json:
            continue
        if result.started:
            say(f"{hook.url}: ledger {hook.ledger!r} started at the current state; later changes will be sent.")
        else:
            say(f"{hook.url}: delivered {len(result.delivered)} event(s).")
    if as_json:
        print_json({"webhooks": sent})


def _delivery(hook: Any, result: Any) -> dict[str, Any]:
    """What ``notify --json`` says of one receiver: the events it was sent (MLflow's payloads' data)."""
    return {
        "url": hook.url,
        "ledger": hook.ledger,
        "started": result.started,
        "delivered": [e.to_dict() for e in result.delivered],
        "skipped": result.skipped,
    }
