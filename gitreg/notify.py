"""Webhook delivery of registry events, MLflow-3-compatible, each event delivered once.

``gitreg notify`` runs beside the registry, never inside a write (from a
post-receive hook, a CI job or a timer): it derives the events between the
state last notified and the registry now (:mod:`gitreg.events`), POSTs each as
MLflow 3 sends a webhook, and records progress in a delivery ledger.

The request, as MLflow 3's webhooks::

    POST <url>
    Content-Type: application/json
    X-MLflow-Delivery-Id: <id>          stable for an event: a receiver can drop repeats
    X-MLflow-Timestamp: <unix seconds>
    X-MLflow-Signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>   (with a secret)

    {"entity": "model_version", "action": "created", "timestamp": "<ISO 8601>", "data": {...}}

The ledger is the ref ``refs/gitreg/notified/<name>`` (:func:`layout.ledger_ref`): a
commit whose ``ledger.json`` holds the state delivered up to, and the batch in
flight (the state it goes to and the ids of its events already accepted). A
receiver that is down makes the run stop with the batch pending; the next run
resumes it where it stopped, so every event reaches the receiver once. Each
ledger commit's parent is the previous one, so ``git log`` of the ledger is
the delivery history. Ledger refs are local: nothing pushes or fetches them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gitreg.config import RegistryConfig
from gitreg.errors import ConflictError, GitregError, InvalidInputError
from gitreg.events import EMPTY, Event, EventKind, State, current_state, events_between
from gitreg.registry import layout
from gitreg.registry.reader import Reader
from gitreg.store import MODE_FILE, RefConflict, RefUpdate, TreeEntry

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"
LEDGER_FILE = "ledger.json"


class DeliveryError(GitregError):
    """A webhook receiver did not accept an event after every retry; the ledger keeps the
    batch pending, so the next ``gitreg notify`` sends from that event on."""

    error_code = "TEMPORARILY_UNAVAILABLE"
    http_status = 503


@dataclass(frozen=True)
class Webhook:
    """Where events go. ``events`` limits the kinds sent (None: all); ``secret`` signs them."""

    url: str
    secret: str | None = None
    events: frozenset[EventKind] | None = None
    ledger: str = "default"

    def wants(self, event: Event) -> bool:
        return self.events is None or event.kind in self.events


def parse_kinds(names: Iterable[str], where: str) -> frozenset[EventKind]:
    """Event kinds from their names; InvalidInputError naming the unknown ones and the known."""
    kinds, unknown = set(), []
    for name in names:
        try:
            kinds.add(EventKind(name))
        except ValueError:
            unknown.append(name)
    if unknown:
        known = ", ".join(k.value for k in EventKind)
        raise InvalidInputError(f"{where}: unknown event(s) {', '.join(unknown)}; known: {known}.")
    return frozenset(kinds)


@dataclass(frozen=True)
class DeliveryRetry:
    """How patiently one event is re-sent: attempts, with exponential back-off between them."""

    attempts: int = 5
    first_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 10.0

    def delays(self) -> Iterable[float]:
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            yield delay
            delay = min(delay * 2, self.max_delay)


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` over ``<delivery id>.<timestamp>.<body>``, as MLflow signs."""
    content = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def request_of(webhook: Webhook, event: Event, now: float | None = None) -> urllib.request.Request:
    """The POST that delivers ``event`` to ``webhook``."""
    when = time.time() if now is None else now
    body = json.dumps(
        {
            "entity": event.kind.entity,
            "action": event.kind.action,
            "timestamp": datetime.fromtimestamp(when, UTC).isoformat(),
            "data": event.data,
        },
        separators=(",", ":"),
    ).encode()
    timestamp = str(int(when))
    headers = {"Content-Type": "application/json", DELIVERY_ID_HEADER: event.id, TIMESTAMP_HEADER: timestamp}
    if webhook.secret:
        headers[SIGNATURE_HEADER] = sign(webhook.secret, event.id, timestamp, body)
    return urllib.request.Request(webhook.url, data=body, headers=headers, method="POST")


def deliver(webhook: Webhook, event: Event, retry: DeliveryRetry, sleep: Callable[[float], None] = time.sleep) -> None:
    """Send ``event`` until the receiver answers 2xx; :class:`DeliveryError` after the last
    attempt, or at once for an answer that retrying cannot change (a 4xx other than 408/429)."""
    why = ""
    for delay in [*retry.delays(), None]:
        try:
            with urllib.request.urlopen(request_of(webhook, event), timeout=retry.timeout) as answer:
                if 200 <= answer.status < 300:
                    return
                why = f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            why = f"HTTP {exc.code}"
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                break
        except (urllib.error.URLError, OSError) as exc:
            why = str(getattr(exc, "reason", exc))
        if delay is not None:
            sleep(delay)
    raise DeliveryError(
        f"{webhook.url} did not accept {event.kind.value} ({event.id}): {why}. The event stays pending; "
        "run 'gitreg notify' again to resume."
    )


# -- the ledger ------------------------------------------------------------------------


@dataclass
class Ledger:
    """What has been delivered: ``state`` fully, and of the batch towards ``pending`` the ``delivered`` ids."""

    state: State
    pending: State | None = None
    delivered: list[str] = field(default_factory=list)
    commit: str | None = None  # the ledger ref's value it was read from

    def to_json(self) -> bytes:
        data: dict[str, Any] = {"state": self.state.to_dict(), "pending": None}
        if self.pending is not None:
            data["pending"] = {"to": self.pending.to_dict(), "delivered": self.delivered}
        return json.dumps(data, indent=1, sort_keys=True).encode()


def read_ledger(reader: Reader, name: str) -> Ledger | None:
    ref = layout.ledger_ref(name)
    commit = reader.store.ref(ref)
    if commit is None:
        return None
    raw = reader.store.read_blob(layout.at(ref, LEDGER_FILE))
    where = layout.at(layout.short_ref(ref), LEDGER_FILE)
    try:
        data = json.loads(raw or b"")
    except ValueError:
        raise InvalidInputError(f"{where} is not JSON; delete the ref to start the ledger again.") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where} is not a ledger.")
    pending = data.get("pending")
    return Ledger(
        State.from_dict(data.get("state"), where),
        State.from_dict(pending["to"], where) if isinstance(pending, dict) else None,
        [str(i) for i in pending.get("delivered", [])] if isinstance(pending, dict) else [],
        commit,
    )


def write_ledger(reader: Reader, name: str, ledger: Ledger, message: str) -> None:
    """Record ``ledger`` as a new commit on its ref, compare-and-swapped against the one read."""
    store = reader.store
    blob = store.write_blob(ledger.to_json())
    tree = store.write_tree([TreeEntry(MODE_FILE, LEDGER_FILE, blob)])
    commit = store.write_commit(tree, [ledger.commit] if ledger.commit else [], message)
    try:
        store.update_refs([RefUpdate(layout.ledger_ref(name), commit, ledger.commit)], message)
    except RefConflict:
        raise ConflictError(
            f"another 'gitreg notify' moved the ledger {name!r} meanwhile; this run stops "
            "(its deliveries are recorded)."
        ) from None
    ledger.commit = commit


@dataclass
class NotifyResult:
    delivered: list[Event] = field(default_factory=list)
    skipped: int = 0  # events the webhook does not want
    started: bool = False  # the ledger was created at the current state: nothing earlier is sent


def notify(
    reader: Reader,
    webhook: Webhook,
    *,
    since: State | None = None,
    retry: DeliveryRetry | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> NotifyResult:
    """Deliver every event since the ledger's state (or ``since``, which restarts the ledger
    there) up to the registry now. A ledger that does not exist yet starts at the current
    state unless ``since`` is given. Raises :class:`DeliveryError` when the receiver does not
    take an event: what was delivered before it is recorded, and the next call resumes."""
    retry = retry or DeliveryRetry()
    result = NotifyResult()
    ledger = read_ledger(reader, webhook.ledger)
    if since is not None:
        ledger = Ledger(since, commit=ledger.commit if ledger else None)
    elif ledger is None:
        write_ledger(reader, webhook.ledger, Ledger(current_state(reader.store)), "gitreg notify: start")
        result.started = True
        return result
    while True:
        target = ledger.pending or current_state(reader.store)
        if target == ledger.state:
            return result
        if ledger.pending is None:
            ledger.pending, ledger.delivered = target, []
        for event in events_between(reader, ledger.state, target):
            if event.id in ledger.delivered:
                continue
            if not webhook.wants(event):
                result.skipped += 1
                continue
            deliver(webhook, event, retry, sleep)
            ledger.delivered.append(event.id)
            write_ledger(reader, webhook.ledger, ledger, f"gitreg notify: {event.kind.value} {event.id}")
            result.delivered.append(event)
        ledger = Ledger(target, commit=ledger.commit)
        write_ledger(reader, webhook.ledger, ledger, f"gitreg notify: delivered up to {target.id[:12]}")


def webhooks_from_config(config: RegistryConfig, env: Mapping[str, str]) -> list[Webhook]:
    """The receivers ``webhooks:`` of ``registry.yaml`` names, with their secrets read from
    ``env`` (secrets never live in git). The first one's ledger is ``default``, others' ``hook<i>``."""
    hooks = []
    for i, hook in enumerate(config.webhooks):
        where = f"{layout.CONFIG_FILE}: webhooks[{i}]"
        secret = env.get(hook.secret_env) if hook.secret_env else None
        if hook.secret_env and not secret:
            raise InvalidInputError(f"{where}: secret_env {hook.secret_env} is not set in the environment.")
        kinds = parse_kinds(hook.events, where) if hook.events else None
        hooks.append(Webhook(hook.url, secret, kinds, hook.ledger or ("default" if i == 0 else f"hook{i}")))
    return hooks


__all__ = [
    "EMPTY",
    "DeliveryError",
    "DeliveryRetry",
    "NotifyResult",
    "Webhook",
    "deliver",
    "notify",
    "sign",
    "webhooks_from_config",
]
