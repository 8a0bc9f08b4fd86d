"""The one evaluation of a stage's promotion policy, for every place that enforces it.

``gitreg check`` (CI, pre-commit, the pre-receive hook) and
:meth:`Registry.promote` (CLI, client, UI) ask the same question the same way:
given a policy read from a trusted ``main``, may this stage state (a stage
branch head, a commit under review, or the commit a promotion is about to
publish) hold this version of this model? The answer is a list of
:class:`Finding`; empty means yes.

Rules (``docs/policy.md``): ``requires_stage`` (some first-parent state of the
required stage branch held exactly the version's subtree), ``metrics`` (each
threshold holds on the version's manifest) and ``require_signed`` (a valid
signature on the stage's promotion commit, bound to stage, model and version;
else on the last commit that changed ``models/<name>/``; else on the tag).

An override is a decision recorded in the promotion commit: its trailers
carry ``Gitreg-Policy-Override: <reason>`` next to the ``Gitreg-Stage``,
``Gitreg-Model`` and ``Gitreg-Version`` that bind it to what it overrides
(:func:`override_of`). The gate reports the findings either way; the caller
decides whether an override is honoured (a local promotion and ``gitreg
check`` do; the pre-receive hook does only when installed to).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gitreg.audit.findings import Finding, Rule
from gitreg.manifest import MANIFEST_FILE, Manifest
from gitreg.policy import StagePolicy
from gitreg.registry import layout
from gitreg.store import GitStore, audit

OVERRIDE_TRAILER = "Gitreg-Policy-Override"
_OVERRIDE = re.compile(rf"^{OVERRIDE_TRAILER}:[ \t]*(\S.*?)\s*$", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """A version held (or about to be held) by a stage state ``rev`` (labelled ``label``)."""

    name: str
    version: int
    tag_ref: str  # refs/tags/<name>/v<N>
    tree: str | None  # the version's models/<name>/ subtree
    manifest: Manifest | None
    rev: str
    label: str


def override_reason(message: str) -> str | None:
    """The reason of a ``Gitreg-Policy-Override`` trailer in ``message``'s last paragraph, else None."""
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", message.strip()) if p.strip()]
    if len(paragraphs) < 2:
        return None
    found = _OVERRIDE.findall(paragraphs[-1])
    return found[0] if len(found) == 1 else None


def override_line(reason: str) -> str:
    """The trailer line recording ``reason`` (one line: newlines become spaces)."""
    one = " ".join(reason.split())
    return f"{OVERRIDE_TRAILER}: {one}"


class PolicyGate:
    """Evaluates stage policies against the stage branches ``stages`` (stage -> ref or commit) of one store.

    What a stage branch ever held is read once per (branch, model) and kept."""

    def __init__(self, store: GitStore, stages: Mapping[str, str]) -> None:
        self.store = store
        self.stages = stages
        self._held: dict[tuple[str, str], set[str]] = {}

    def evaluate(self, policy: StagePolicy, c: Candidate) -> list[Finding]:
        """Everything in ``policy`` that ``c`` does not satisfy."""
        found: list[Finding] = []
        where = layout.at(c.label, layout.version_dir(c.name)) + "/"
        if policy.requires_stage and c.tree:
            before = self.stages.get(policy.requires_stage)
            if before is None or c.tree not in self.trees_ever_held(before, c.name):
                found.append(
                    Finding(
                        c.name,
                        c.version,
                        where,
                        Rule.POLICY_REQUIRES_STAGE,
                        f"{policy.stage} requires a version that has been in {policy.requires_stage}; version "
                        f"{c.version} never was (git log {layout.stage_branch(policy.requires_stage)} -- "
                        f"{layout.version_dir(c.name)}).",
                    )
                )
        for threshold in policy.metrics:
            actual = c.manifest.metrics.get(threshold.metric) if c.manifest else None
            if actual is None:
                message = (
                    f"{policy.stage} requires {threshold} but version {c.version} has no metric {threshold.metric!r}."
                )
            elif not threshold.holds(actual):
                message = f"{policy.stage} requires {threshold}; version {c.version} has {actual:g}."
            else:
                continue
            found.append(Finding(c.name, c.version, where + MANIFEST_FILE, Rule.POLICY_METRIC, message))
        if policy.require_signed:
            found += self._signed(policy, c, where)
        return found

    def override_of(self, stage: str, c: Candidate) -> str | None:
        """The recorded override reason for ``c`` in ``stage``: the promotion commit of
        ``c.name`` on ``c.rev`` carries the override trailer and names this stage, model
        and version. None when there is none, or it is bound to something else."""
        from gitreg import signatures  # it imports the registry package, which imports this module

        found = signatures.promotion_commit(self.store, c.rev, c.name)
        if found is None:
            return None
        _, message = found
        reason = override_reason(message)
        if reason is None or not signatures.authorisation(message).names(stage, c.name, c.version):
            return None
        return reason

    def _signed(self, policy: StagePolicy, c: Candidate, where: str) -> list[Finding]:
        from gitreg import signatures

        bound = signatures.stage_signature(self.store, c.rev, c.name)
        if bound.valid:
            if bound.authorises.names(policy.stage, c.name, c.version):
                return []
            unbound = (
                f"the signed promotion commit {(bound.commit or '')[:12]} authorises {bound.authorises}, but "
                f"{c.label} holds {c.name} version {c.version} in {policy.stage}; a signed-only server refuses "
                f"it. Promote it with 'gitreg promote {c.name} {c.version} {policy.stage} --sign'."
            )
            return [Finding(c.name, c.version, where, Rule.POLICY_SIGNATURE_BINDING, unbound)]
        move = audit.last_commit_touching(self.store, c.rev, layout.version_dir(c.name))
        if move is not None and move != bound.commit:
            ok, why = audit.verify_commit(self.store, move)
            if ok:
                return []
        else:
            why = bound.why if move else "no commit"
        tag_ok, tag_why = audit.verify_tag(self.store, c.tag_ref)
        if tag_ok:
            return []
        unsigned = (
            f"{policy.stage} requires a signature: the stage move commit {(move or '')[:12]} "
            f"({why or 'unsigned'}) and tag {layout.short_ref(c.tag_ref)} ({tag_why or 'unsigned'}) carry no "
            "valid one."
        )
        return [Finding(c.name, c.version, where, Rule.POLICY_SIGNATURE, unsigned)]

    def trees_ever_held(self, branch: str, name: str) -> set[str]:
        """Every ``models/<name>/`` subtree some first-parent state of ``branch`` held.

        First parents: states the branch itself had, not commits of a pull
        request that were never the branch's head."""
        key = (branch, name)
        if key not in self._held:
            trees = set()
            for entry in self.store.log(branch, [layout.version_dir(name)], first_parent=True):
                tree = self.store.tree_oid(layout.at(entry.commit, layout.version_dir(name)))
                if tree:
                    trees.add(tree)
            self._held[key] = trees
        return self._held[key]
