"""What a push would break, judged before git accepts it: the pre-receive hook's check (:mod:`gitreg.hooks`)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from gitreg.audit.checker import check_registry
from gitreg.audit.findings import Finding, Rule
from gitreg.audit.review import check_rewritten
from gitreg.audit.state import Audit
from gitreg.registry import layout
from gitreg.store import ZERO_OID, GitStore, scratch


@dataclass(frozen=True)
class PushedRef:
    """One line of what git gives a pre-receive hook: ``ref`` moves from ``old`` to ``new``
    (None: created / deleted)."""

    old: str | None
    new: str | None
    ref: str

    @classmethod
    def parse(cls, line: str) -> PushedRef:
        old, new, ref = line.split(" ", 2)
        return cls(None if old == ZERO_OID else old, None if new == ZERO_OID else new, ref.strip())


def check_push(
    store: GitStore, pushed: list[PushedRef], *, objects: list[Path] | None = None, allow_overrides: bool = False
) -> list[Finding]:
    """What a push would break, judged before git accepts it; empty when it may land.

    ``store`` is the receiving repository as it is (its refs before the push);
    ``objects`` the directories holding the pushed objects (git's quarantine).
    Refused outright: moving or deleting a version tag, deleting ``main`` or
    moving it other than by fast-forward. Then the whole check runs on the
    state the push would create, with the policy of ``main`` before the push
    (the pusher cannot relax it), and every finding that the current state does
    not already have is the push's. A policy override recorded in a pushed
    promotion commit counts only with ``allow_overrides``.
    """
    current = store.ref_oids(layout.ALL_REFS)
    after = dict(current)
    for p in pushed:
        if p.new is None:
            after.pop(p.ref, None)
        else:
            after[p.ref] = p.new
    with tempfile.TemporaryDirectory(prefix="gitreg-push-") as tmp:
        view = scratch.view(Path(tmp) / "view.git", [*(objects or []), store.git_dir / "objects"], after)
        try:
            findings = [f for p in pushed for f in _refused_outright(view, p)]
            before = {f.line() for f in check_registry(store, fetch=False, allow_overrides=allow_overrides)}
            main_before, main_after = current.get(layout.MAIN), after.get(layout.MAIN)
            found = check_registry(view, fetch=False, allow_overrides=allow_overrides, policy_from=main_before)
            if main_before and main_after and main_before != main_after:
                found += _records_rewritten(view, main_before, main_after)
            return findings + [f for f in found if f.line() not in before]
        finally:
            view.close()


def _refused_outright(view: GitStore, p: PushedRef) -> list[Finding]:
    """A version tag moved or deleted; main deleted or moved other than by fast-forward."""
    short = layout.short_ref(p.ref)
    tagged = layout.parse_tag(p.ref)
    if tagged is not None and p.old is not None:
        what = "deletes" if p.new is None else "moves"
        message = f"the push {what} tag {short}; a version is immutable (register a new version instead)."
        return [Finding(tagged[0], tagged[1], p.ref, Rule.PUSH_TAG, message)]
    if p.ref != layout.MAIN or p.old is None:
        return []
    if p.new is None:
        return [Finding(None, None, p.ref, Rule.PUSH_MAIN, "the push deletes main.")]
    if view.is_ancestor(p.old, p.new):
        return []
    message = (
        f"the push rewrites main's history ({p.old[:12]} is not in {p.new[:12]}); main only "
        "moves forward: merge or rebase onto it and push again."
    )
    return [Finding(None, None, p.ref, Rule.PUSH_MAIN, message)]


def _records_rewritten(view: GitStore, main_before: str, main_after: str) -> list[Finding]:
    """Registrations are append-only, across the push's move of main too."""
    run = Audit(view)
    old = run.records(main_before, "main", report=False)
    check_rewritten(run, old, run.records(main_after, "main", report=False), layout.short_ref(layout.MAIN))
    return run.findings
