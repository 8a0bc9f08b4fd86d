"""Trust and signing: the policy read from the trusted base, judged by the policy gate, overrides only when bound."""

from __future__ import annotations

from gitreg import yamlio
from gitreg.audit.findings import Rule
from gitreg.audit.state import Audit, Tag
from gitreg.errors import InvalidInputError
from gitreg.policy import StagePolicy, parse_policy
from gitreg.registry import layout
from gitreg.registry.policy_gate import Candidate


def read_policy(run: Audit, rev: str | None, label: str) -> dict[str, StagePolicy]:
    """The policy of ``registry.yaml`` on ``rev``, by stage; a missing or broken file is a schema
    finding and no policy. Only a trusted ``rev`` is read for enforcement: a ref under review is
    read for its schema alone, so it never sets its own policy."""
    where = layout.at(label, layout.CONFIG_FILE)
    raw = run.store.read_blob(layout.at(rev, layout.CONFIG_FILE)) if rev else None
    if raw is None:
        if rev is not None:
            run.add(None, None, where, Rule.SCHEMA, f"{layout.CONFIG_FILE} is missing; this is not a gitreg registry.")
        return {}
    try:
        return parse_policy(yamlio.load_mapping(raw, where), where)
    except InvalidInputError as exc:
        run.add(None, None, where, Rule.SCHEMA, str(exc))
        return {}


def check_policy(run: Audit, policy: StagePolicy, name: str, tag: Tag, rev: str, label: str) -> None:
    """The policy's findings for what ``rev`` holds (:mod:`gitreg.registry.policy_gate`, which also
    checks that a signed promotion is bound to its stage and version), unless the promotion commit
    records an override for exactly this stage, model and version and overrides are honoured."""
    candidate = Candidate(name, tag.version, tag.ref, tag.tree, tag.manifest, rev, label)
    found = run.gate.evaluate(policy, candidate)
    if found and run.allow_overrides and run.gate.override_of(policy.stage, candidate) is not None:
        return
    run.findings += found


def check_held(
    run: Audit, policy: dict[str, StagePolicy], stage: str, held: dict[str, Tag], rev: str, label: str
) -> None:
    """The stage's policy (if it has one) on every version ``rev`` holds in it."""
    if stage in policy:
        for name, tag in held.items():
            check_policy(run, policy[stage], name, tag, rev, label)
