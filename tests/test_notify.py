"""Registry events derived from git, and their delivery to a real webhook receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gitreg.events import EventKind, current_state, events_between
from gitreg.notify import DeliveryError, DeliveryRetry, Webhook, notify, read_ledger
from gitreg.registry import Registry
from gitreg.testing import file_package, run_cli

SECRET = "s3cret"
FAST = DeliveryRetry(attempts=3, first_delay=0.01, max_delay=0.02, timeout=5)


class Receiver:
    """An HTTP server that verifies MLflow's signature and records what it accepted."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.delivery_ids: list[str] = []
        self.bad_signatures = 0
        self.refuse_from = 10**9  # answer 503 to the Nth request on (0-based count of attempts)
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if receiver.attempts > receiver.refuse_from:
                    self.send_response(503)
                    self.end_headers()
                    return
                delivery, stamp = self.headers["X-MLflow-Delivery-Id"], self.headers["X-MLflow-Timestamp"]
                content = f"{delivery}.{stamp}.".encode() + body
                want = "v1," + base64.b64encode(hmac.new(SECRET.encode(), content, hashlib.sha256).digest()).decode()
                if not hmac.compare_digest(want, self.headers.get("X-MLflow-Signature", "")):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                receiver.accepted.append(json.loads(body))
                receiver.delivery_ids.append(delivery)
                self.send_response(200)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def kinds(self) -> list[str]:
        return [f"{p['entity']}.{p['action']}" for p in self.accepted]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.httpd.shutdown()
    r.httpd.server_close()


def changes(reg: Registry, tmp_path: Path) -> None:
    reg.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}), tags={"team": "a"})
    reg.register("m", file_package(tmp_path / "p2", {"model.bin": b"two"}))
    reg.promote("m", 1, "staging")
    reg.set_alias("m", "champion", 2)
    reg.update_version("m", 1, description="first", tags={"team": None, "ok": "yes"})
    reg.set_model_tag("m", "owner", "ml")


def test_events_between_two_states_are_typed_and_mlflow_named(registry: Registry, tmp_path: Path) -> None:
    before = current_state(registry.store)
    changes(registry, tmp_path)
    mid = current_state(registry.store)
    found = events_between(registry.reader, before, mid)
    assert [e.kind for e in found] == [
        EventKind.REGISTERED_MODEL_CREATED,  # its payload carries the tags set since: no tag events
        EventKind.MODEL_VERSION_CREATED,
        EventKind.MODEL_VERSION_CREATED,
        EventKind.MODEL_VERSION_ALIAS_CREATED,
        EventKind.MODEL_VERSION_TRANSITIONED_STAGE,
    ]
    assert found[0].data == {"name": "m", "tags": {"owner": "ml"}, "description": None}
    created = [e.data for e in found if e.kind is EventKind.MODEL_VERSION_CREATED]
    assert created[0]["name"] == "m" and created[0]["version"] == "1" and created[0]["description"] == "first"
    alias = next(e.data for e in found if e.kind is EventKind.MODEL_VERSION_ALIAS_CREATED)
    assert alias == {"name": "m", "alias": "champion", "version": "2"}
    stage = next(e.data for e in found if e.kind is EventKind.MODEL_VERSION_TRANSITIONED_STAGE)
    assert stage == {"name": "m", "version": "1", "stage": "Staging", "previous_version": None}
    registry.delete_version("m", 2)
    registry.update_version("m", 1, tags={"ok": None})
    later = events_between(registry.reader, mid, current_state(registry.store))
    assert {e.kind for e in later} == {
        EventKind.MODEL_VERSION_DELETED,
        EventKind.MODEL_VERSION_TAG_DELETED,
        EventKind.MODEL_VERSION_ALIAS_DELETED,
    }
    assert events_between(registry.reader, mid, mid) == []


def test_events_cli_lists_events_since_an_instant(registry: Registry, tmp_path: Path) -> None:
    changes(registry, tmp_path)
    out = run_cli("events", "--between", "2000-01-01", "now", "--json", "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    kinds = {e["event"] for e in json.loads(out.stdout)}
    assert {"registered_model.created", "model_version.created", "model_version_alias.created"} <= kinds
    out = run_cli("events", "--since", "2999-01-01", "-r", str(registry.path))
    assert out.returncode == 0 and "No events." in out.stdout


def test_notify_delivers_each_event_once_across_a_receiver_outage(
    registry: Registry, tmp_path: Path, receiver: Receiver
) -> None:
    hook = Webhook(receiver.url, SECRET)
    assert notify(registry.reader, hook, retry=FAST, sleep=lambda s: None).started
    changes(registry, tmp_path)
    expected = [
        e.kind.value
        for e in events_between(
            registry.reader, read_ledger(registry.reader, "default").state, current_state(registry.store)
        )
    ]
    receiver.refuse_from = 2  # two events land, then the receiver goes down
    with pytest.raises(DeliveryError, match="stays pending"):
        notify(registry.reader, hook, retry=FAST, sleep=lambda s: None)
    assert len(receiver.accepted) == 2
    assert len(read_ledger(registry.reader, "default").delivered) == 2
    receiver.refuse_from = 10**9  # recovery
    result = notify(registry.reader, hook, retry=FAST, sleep=lambda s: None)
    assert len(result.delivered) == len(expected) - 2
    assert receiver.kinds() == expected
    assert len(set(receiver.delivery_ids)) == len(receiver.delivery_ids) and receiver.bad_signatures == 0
    assert notify(registry.reader, hook, retry=FAST, sleep=lambda s: None).delivered == []
    registry.promote("m", 2, "production")
    notify(registry.reader, hook, retry=FAST, sleep=lambda s: None)
    assert receiver.accepted[-1] == {
        "entity": "model_version",
        "action": "transitioned_stage",
        "timestamp": receiver.accepted[-1]["timestamp"],
        "data": {"name": "m", "version": "2", "stage": "Production", "previous_version": None},
    }


def test_notify_cli_reads_webhooks_from_registry_yaml_and_signs(
    registry: Registry, tmp_path: Path, receiver: Receiver, env: dict[str, str]
) -> None:
    text = (registry.path / "registry.yaml").read_text().rstrip()
    text += f"\nwebhooks:\n  - url: {receiver.url}\n    secret_env: HOOK_SECRET\n    events: [model_version.created]\n"
    (registry.path / "registry.yaml").write_text(text)
    import subprocess

    subprocess.run(["git", "-C", str(registry.path), "commit", "-qam", "webhooks"], check=True)
    run_env = {**env, "HOOK_SECRET": SECRET}
    out = run_cli("notify", "-r", str(registry.path), env=run_env)
    assert out.returncode == 0 and "ledger 'default' started" in out.stdout, out.stderr
    changes(registry, tmp_path)
    out = run_cli("notify", "-r", str(registry.path), env=run_env)
    assert out.returncode == 0, out.stderr
    assert receiver.kinds() == ["model_version.created", "model_version.created"]
    out = run_cli(
        "notify",
        "--url",
        "http://127.0.0.1:9/unreachable",
        "--ledger",
        "x",
        "--since",
        "2000-01-01",
        "--attempts",
        "1",
        "-r",
        str(registry.path),
        env=run_env,
    )
    assert out.returncode == 1 and "stays pending" in out.stderr
