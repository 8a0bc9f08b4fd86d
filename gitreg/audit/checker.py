"""The order a check runs its rules in: complete the checkout, then tags, main, stages and the ref under review."""

from __future__ import annotations

from pathlib import Path

from gitreg.audit.checkout import complete, missing_tags
from gitreg.audit.findings import Finding, Rule
from gitreg.audit.review import Review, check_review
from gitreg.audit.state import FULL_HISTORY_HINT, Audit
from gitreg.audit.trust import check_held, read_policy
from gitreg.audit.versions import check_tag
from gitreg.audit.views import check_names, check_orphans, check_view
from gitreg.errors import NotFoundError
from gitreg.manifest import ModelRecord
from gitreg.policy import StagePolicy
from gitreg.registry import layout
from gitreg.store import GitStore
from gitreg.store import audit as git_audit


def check_registry(
    store: GitStore,
    *,
    ref: str | None = None,
    base: str | None = None,
    fetch: bool = True,
    allow_overrides: bool = True,
    policy_from: str | None = None,
    ref_label: str | None = None,
) -> list[Finding]:
    """Everything that does not hold, in a stable order; empty when all hold.

    ``ref`` is a ref under review (e.g. a pull request's merge commit) and
    ``base`` the trusted ref it would update; the policy is read from
    ``base`` (or ``main`` when ``base`` is a stage branch), never from ``ref``.
    ``policy_from`` (a commit of main) overrides where the policy is read from:
    the pre-receive hook checks a pushed state against the main it had before.
    With ``allow_overrides`` a policy violation whose promotion commit records
    an override (``Gitreg-Policy-Override``, bound to its stage, model and
    version) is not reported. Raises :class:`NotFoundError` if ``ref`` or
    ``base`` does not exist.
    """
    run = Audit(store, allow_overrides)
    complete(run, fetch)
    base_commit = _resolve(store, base, "--base") if base else None
    ref_commit = _resolve(store, ref or "HEAD", "--ref") if (ref or base) else None
    main = run.refs.main
    main_label = layout.short_ref(main or layout.MAIN_BRANCH)
    base_is_main_like = bool(base_commit and store.read(layout.at(base_commit, layout.CONFIG_FILE)))
    trusted = base_commit if base_is_main_like else main
    trusted_label = layout.short_ref(base) if base_is_main_like and base else main_label
    main_records = run.records(main, main_label, report=True)
    trusted_records = main_records if trusted == main else run.records(trusted, trusted_label, report=False)
    policy = read_policy(run, policy_from, main_label) if policy_from else read_policy(run, trusted, trusted_label)
    _check_tags(run, trusted_records, trusted_label)
    _check_branches(run, main_records, policy, reviewing=ref_commit is not None)
    if ref_commit is not None:
        label = ref_label or ref or "HEAD"
        review = Review(
            ref, base, label, ref_commit, base_commit, base_is_main_like, trusted_records, main_records, policy
        )
        check_review(run, review)
    return run.sorted_findings()


def check_staged(store: GitStore, *, index_file: Path | None = None, fetch: bool = True) -> list[Finding]:
    """Check what the index holds as the next commit of the branch the work tree is on (for a
    pre-commit hook): a change to ``main`` is held to schema and integrity (a hand edit of a
    version's files differs from its tag), a stage branch to its policy. Findings name ``index``."""
    from gitreg.store import index, worktree

    tree = index.staged_tree(store, index_file)
    branch = worktree.checked_out(store) or layout.MAIN
    head = store.ref(branch)
    commit = store.write_commit(tree, [head] if head else [], "gitreg check --staged")
    return check_registry(store, ref=commit, base=branch, fetch=fetch, ref_label="index")


def _resolve(store: GitStore, rev: str, what: str) -> str:
    got = store.read(f"{rev}^{{commit}}")
    if got is None:
        raise NotFoundError(f"{what} {rev!r} does not exist in this repository. Fetch it first ({FULL_HISTORY_HINT}).")
    return got[0]


def _check_tags(run: Audit, trusted_records: dict[str, ModelRecord], trusted_label: str) -> None:
    """Every version tag, and every registered version's tag being there."""
    main = run.refs.main
    # A local main may lag its remote's: a tag registered since is still "on main".
    main_commits = git_audit.reachable_commits(run.store, *run.refs.all_mains) if main else set()
    for tag in run.refs.tags.values():
        record = trusted_records.get(tag.name)
        if main_commits and tag.commit not in main_commits and (record is None or tag.version >= record.next_version):
            continue  # an interrupted registration's tag: not a version; the next registration replaces it
        check_tag(run, tag, record, main_commits, trusted_label)
    for name, version in missing_tags(run.refs, trusted_records):
        run.add(
            name,
            version,
            layout.tag_ref(name, version),
            Rule.TAG_MISSING,
            f"version {version} is registered on {trusted_label} but its tag is missing; {FULL_HISTORY_HINT}.",
        )


def _check_branches(
    run: Audit, main_records: dict[str, ModelRecord], policy: dict[str, StagePolicy], *, reviewing: bool
) -> None:
    """Main's and every stage's entries, names, and (unless a ref is under review) each stage's policy."""
    main = run.refs.main
    if main is not None:
        check_view(run, main, layout.short_ref(main), main_records, Rule.LATEST_SUBTREE)
        check_orphans(run, main, layout.short_ref(main), main_records)
    check_names(run, main)
    for stage, branch in sorted(run.refs.stages.items()):
        label = layout.short_ref(branch)
        held = check_view(run, branch, label, main_records, Rule.STAGE_SUBTREE)
        if not reviewing:
            check_held(run, policy, stage, held, branch, label)
