"""A ref under review (a pull request's merge commit, the index, a pushed head): what it is for and what it changes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitreg.audit.findings import Rule
from gitreg.audit.state import Audit
from gitreg.audit.trust import check_held, read_policy
from gitreg.audit.views import check_view
from gitreg.manifest import ModelRecord
from gitreg.policy import StagePolicy
from gitreg.registry import layout

_STAGE_IN_NAME = re.compile(r"(?:^|/)stages/(?P<stage>[^/]+)\Z")
_PROMOTE_IN_NAME = re.compile(r"(?:^|/)promote/(?P<stage>[^/]+)/")


def stage_of_refname(name: str) -> str | None:
    """The stage a branch name is about: ``origin/stages/production`` or
    ``promote/production/iris-v3`` -> ``production``."""
    m = _STAGE_IN_NAME.search(name) or _PROMOTE_IN_NAME.search(name)
    return m.group("stage").lower() if m else None


@dataclass(frozen=True)
class Review:
    """The ref under review and what it is judged against: ``base`` (the trusted ref it would
    update, resolved to ``base_commit``) and, from the trusted side, the records and policy."""

    ref: str | None
    base: str | None
    label: str
    commit: str
    base_commit: str | None
    base_is_main_like: bool
    trusted_records: dict[str, ModelRecord]
    main_records: dict[str, ModelRecord]
    policy: dict[str, StagePolicy]


def check_review(run: Audit, review: Review) -> None:
    """A main-like ref is held to schema, append-only records and its tags; a stage ref to its
    tags and its stage's policy for the models it changes. What the ref is for is decided by the
    trusted side (the base), so a ref under review can't change how it is checked, e.g. by
    adding a registry.yaml to a stage branch."""
    if review.base_commit is not None:
        stage = None if review.base_is_main_like else stage_of_refname(review.base or "")
    else:
        stage = stage_of_refname(review.ref or "")
    if stage is None and (review.base_is_main_like or (review.base_commit is None and _has_config(run, review.commit))):
        records = run.records(review.commit, review.label, report=True)
        check_rewritten(run, review.trusted_records, records, review.label)
        read_policy(run, review.commit, review.label)  # schema only: a ref under review never sets its own policy
        check_view(run, review.commit, review.label, records, Rule.LATEST_SUBTREE)
        return
    if stage is None:
        run.add(
            None,
            None,
            review.label,
            Rule.STAGE_UNKNOWN,
            "cannot tell which stage this ref is for; pass --base origin/stages/<stage> (the branch it would update).",
        )
        return
    under_base = review.base_commit is not None and not review.base_is_main_like
    base_rev = review.base_commit if under_base else run.refs.stages.get(stage)
    changed = _changed_models(run, base_rev, review.commit)
    held = check_view(run, review.commit, review.label, review.main_records, Rule.STAGE_SUBTREE, only=changed)
    check_held(run, review.policy, stage, held, review.commit, review.label)


def check_rewritten(run: Audit, old: dict[str, ModelRecord], new: dict[str, ModelRecord], label: str) -> None:
    """Registrations are append-only: no record of ``new`` may change a tree ``old`` registered."""
    for name, before in old.items():
        after = new.get(name)
        changed = [v for v, t in before.registered.items() if after is not None and after.registered.get(v) != t]
        for v in changed:
            run.add(
                name,
                v,
                layout.at(label, layout.record_path(name)),
                Rule.RECORD_REWRITTEN,
                f"changes the tree version {v} was registered with; registrations are append-only.",
            )


def _has_config(run: Audit, commit: str) -> bool:
    return run.store.read(layout.at(commit, layout.CONFIG_FILE)) is not None


def _changed_models(run: Audit, base: str | None, commit: str) -> set[str]:
    new = run.models(commit)
    old = run.models(base)
    return {n for n, e in new.items() if e.is_tree and (n not in old or old[n].oid != e.oid)}
