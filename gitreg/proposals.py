"""The review queue: promotions waiting on ``promote/<stage>/<name>-v<N>`` branches.

A proposal is open while its stage does not hold what it proposes (a merged
one, however the forge merged it, leaves the stage's ``models/<name>/`` equal
to the branch's). For each: the version, what the stage holds now, how the
metrics move, and what the stage's policy (``registry.yaml`` on main) says of
the branch head, by the same gate promotions and ``gitreg check`` use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitreg.diff import MetricChange, diff_versions
from gitreg.errors import GitregError
from gitreg.names import display_stage
from gitreg.registry import Registry, layout
from gitreg.registry.layout import at
from gitreg.registry.policy_gate import Candidate, Finding, PolicyGate


@dataclass(frozen=True)
class OpenProposal:
    branch: str  # promote/<stage>/<name>-v<N>
    stage: str  # canonical
    name: str
    version: int
    commit: str
    author: str
    time: int
    holder: int | None  # the version the stage holds now
    metrics: tuple[MetricChange, ...]  # holder -> proposed (empty without a holder)
    findings: tuple[Finding, ...]  # the stage policy's, on the branch head
    problem: str | None = None  # why it cannot be evaluated (a missing or deleted version)

    @property
    def passes(self) -> bool:
        return self.problem is None and not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "stage": display_stage(self.stage),
            "name": self.name,
            "version": self.version,
            "commit": self.commit,
            "author": self.author,
            "time": self.time,
            "current_version": self.holder,
            "metrics": [{"key": m.key, "current": m.old, "proposed": m.new, "delta": m.delta} for m in self.metrics],
            "policy": "problem" if self.problem else ("pass" if not self.findings else "fail"),
            "findings": [f.to_dict() for f in self.findings],
            "problem": self.problem,
        }


def open_proposals(registry: Registry) -> list[OpenProposal]:
    """Every open proposal, newest first."""
    store = registry.store
    gate = PolicyGate(store, {s: layout.stage_ref(s) for s in registry.stage_names()})
    policy = registry.config().policy
    found = []
    for ref, commit in store.ref_oids(layout.PROPOSAL_PREFIX).items():
        parsed = layout.parse_proposal(ref)
        if parsed is None:
            continue
        stage, name, version = parsed
        tree = store.tree_oid(at(commit, layout.version_dir(name)))
        if tree is None or tree == store.tree_oid(at(layout.stage_ref(stage), layout.version_dir(name))):
            continue  # merged, or proposes nothing
        entry = store.log(commit, max_count=1)[0]
        holder: int | None = None
        metrics: tuple[MetricChange, ...] = ()
        findings: list[Finding] = []
        problem: str | None = None
        try:
            proposed = registry.version_ref(name, version)
            current = registry.stage_ref_version(name, stage)
        except GitregError as exc:
            problem = str(exc)
        else:
            holder = current.version if current else None
            metrics = diff_versions(registry, current, proposed).metrics if current else ()
            if proposed.tree != tree:
                problem = f"the branch's {layout.version_dir(name)}/ differs from tag {proposed.tag}"
            elif stage in policy:
                label = layout.short_ref(ref)
                candidate = Candidate(
                    name, version, layout.tag_ref(name, version), tree, proposed.manifest, commit, label
                )
                findings = gate.evaluate(policy[stage], candidate)
        found.append(
            OpenProposal(
                layout.short_ref(ref),
                stage,
                name,
                version,
                commit,
                entry.author,
                entry.author_time,
                holder,
                metrics,
                tuple(findings),
                problem,
            )
        )
    return sorted(found, key=lambda p: (p.time, p.branch), reverse=True)
