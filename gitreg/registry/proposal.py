"""Promotion through a pull request: a branch holding the stage change.

``promote/<stage>/<name>-v<version>`` is ONE commit whose parent is the head
of ``stages/<stage>`` and whose only change is ``models/<name>/`` set to the
subtree of tag ``<name>/v<version>``. Whatever way a forge merges it (merge
commit, squash, rebase, fast-forward) the stage's tree then holds that
subtree, and because resolution reads trees, ``models:/<name>/<stage>``
resolves to the proposed version; reverting the merge rolls it back.

A pull request needs a target branch. When ``stages/<stage>`` does not exist
yet, the proposal creates it as an empty root commit ("Create stage X") in the
same transaction: an empty stage holds no model, so creating it promotes
nothing, and the review still shows exactly one change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitreg.errors import ConflictError, InvalidInputError
from gitreg.names import check_stage_name, display_stage
from gitreg.registry import layout
from gitreg.registry.layout import at
from gitreg.registry.promotion import Promotion
from gitreg.registry.writer import RetryPolicy
from gitreg.store import EMPTY_TREE, MODE_TREE, GitStore, RefConflict, RefUpdate, remote


@dataclass(frozen=True)
class Proposal:
    """A promotion waiting for review."""

    name: str
    version: int
    stage: str  # canonical stage name
    branch: str  # promote/<stage>/<name>-v<version>
    target: str  # stages/<stage>
    commit: str
    base: str  # the stage head the commit sits on
    message: str
    created_stage: bool  # the stage branch was created (empty) for it

    def ref_updates(self, previous_branch: str | None) -> list[RefUpdate]:
        updates = [RefUpdate(layout.branch_ref(self.branch), self.commit, previous_branch)]
        if self.created_stage:
            updates.append(RefUpdate(layout.branch_ref(self.target), self.base, None))
        return updates


def branch_name(name: str, version: int, stage: str) -> str:
    return layout.proposal_branch(name, version, stage)


def propose(promotion: Promotion, name: str, version: int, stage: str) -> Proposal:
    """Create (or replace) the proposal branch for putting ``version`` of
    ``name`` in ``stage``. Raises InvalidInputError when the stage already
    holds that version (nothing to review); NotFoundError for an unknown
    model or version. Nothing changes when it raises."""
    reader = promotion.read
    ref = reader.version_ref(name, version)
    if isinstance(stage, str) and stage.lower() == "none":
        raise InvalidInputError("A proposal moves a version into a stage; 'None' is not one. Use 'gitreg demote'.")
    target = check_stage_name(stage)
    store = reader.store
    branch = branch_name(name, ref.version, target)
    for _ in RetryPolicy(attempts=20).pauses():
        reader.fresh.before_write()  # on the stage's current head, not the mirror's memory of it
        head = store.ref(layout.stage_ref(target))
        created = head is None
        base = head or store.write_commit(EMPTY_TREE, [], f"Create stage {display_stage(target)}")
        root = store.commit_tree(base)
        if store.tree_oid(at(root, layout.version_dir(name))) == ref.tree:
            raise InvalidInputError(
                f"{name} version {ref.version} is already in {display_stage(target)}; there is nothing to propose."
            )
        tree = store.edit_tree(root, {layout.version_dir(name): (MODE_TREE, ref.tree)})
        message = promotion.message(ref, target, reader.version_at(base, name))
        commit = store.write_commit(tree, [base], message)
        proposal = Proposal(
            name, ref.version, target, branch, layout.stage_branch(target), commit, base, message, created
        )
        try:
            store.update_refs(proposal.ref_updates(store.ref(layout.branch_ref(branch))), f"propose {branch}")
        except RefConflict:
            continue
        return proposal
    raise ConflictError(f"Gave up proposing {branch}: the stage kept moving. Try again.")


def push(store: GitStore, where: Path, proposal: Proposal) -> str:
    """Publish ``proposal`` to the registry's remote; return the remote URL.

    A registry opened from a URL already pushed it (its every ref move is a
    push). A cloned registry pushes to ``origin``: the proposal branch is the
    proposer's and is replaced; a stage branch created for it must not exist
    there yet (else the clone is stale: pull first)."""
    url = getattr(store, "url", None)
    if url is not None:
        return str(url)
    url = remote.remote_url(store)
    if url is None:
        raise InvalidInputError(
            f"{where} has no remote 'origin' to push {proposal.branch} to. "
            "Use a registry made with 'gitreg clone URL', or pass --registry URL."
        )
    updates = [RefUpdate(layout.branch_ref(proposal.branch), proposal.commit, remote.ANY)]
    if proposal.created_stage:
        updates.append(RefUpdate(layout.branch_ref(proposal.target), proposal.base, None))
    try:
        remote.push_updates(store, remote.ORIGIN, updates)
    except RefConflict:
        raise ConflictError(
            f"origin already has {proposal.target}, which this clone did not know. Run 'gitreg pull' and propose again."
        ) from None
    return url
