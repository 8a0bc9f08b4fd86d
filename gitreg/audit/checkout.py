"""Completing a shallow or tag-less checkout (what CI checkouts usually are) by fetching, or saying what to change.

With no remote to fetch from, what is missing is a finding: the check never
passes for lack of evidence.
"""

from __future__ import annotations

from gitreg.audit.findings import Rule
from gitreg.audit.state import FULL_HISTORY_HINT, Audit, Refs
from gitreg.errors import GitError
from gitreg.manifest import ModelRecord
from gitreg.store import audit as git_audit


def missing_tags(refs: Refs, records: dict[str, ModelRecord]) -> list[tuple[str, int]]:
    """The live versions ``records`` say were registered whose tag ``refs`` lacks."""
    missing = []
    for name, record in records.items():
        expected = record.registered.keys() if record.registered else range(1, record.next_version)
        missing += [(name, v) for v in expected if v not in record.deleted and (name, v) not in refs.tags]
    return missing


def complete(run: Audit, fetch: bool) -> None:
    """Scan the refs; fetch everything from the remote when the checkout lacks history, tags or
    branches (and ``fetch``), then report what is still missing."""
    run.scan_refs()
    store = run.store
    shallow = git_audit.is_shallow(store)
    remotes = git_audit.remotes(store)
    remote = "origin" if "origin" in remotes else (remotes[0] if remotes else None)
    incomplete = (
        shallow
        or run.refs.main is None
        or bool(missing_tags(run.refs, run.records(run.refs.main, "main", report=False)))
        or (remote is not None and not git_audit.fetches_all_branches(store, remote))
    )
    if incomplete and remote is not None and fetch:
        _fetch(run, remote)
        run.scan_refs()
        shallow = git_audit.is_shallow(store)
    if shallow:
        run.add(
            None,
            None,
            "(repository)",
            Rule.CHECKOUT,
            f"the checkout is shallow, so history can't be verified. {FULL_HISTORY_HINT}.",
        )
    if run.refs.main is None:
        run.add(None, None, "(repository)", Rule.CHECKOUT, f"no main branch (local or remote). {FULL_HISTORY_HINT}.")


def _fetch(run: Audit, remote: str) -> None:
    try:
        git_audit.fetch_everything(run.store, remote)
    except GitError as exc:  # e.g. a tag moved on the remote: git refuses to clobber it; report, go on
        why = "; ".join(
            line.strip() for line in str(exc).splitlines() if any(w in line for w in ("!", "error", "fatal"))
        )
        run.add(None, None, f"remote {remote}", Rule.CHECKOUT, f"could not fetch: {why or exc}. {FULL_HISTORY_HINT}.")
