"""What a check reports: :class:`Rule`, each rule's name, and :class:`Finding`, one thing that does not hold."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Rule(StrEnum):
    """A rule's name, as ``gitreg check`` prints it and ``--json`` gives it (a ``str``: it compares
    and serialises as its name); :attr:`meaning` says in a line what its findings mean."""

    CHECKOUT = "checkout"
    SCHEMA = "schema"
    ARTIFACT = "artifact"
    ARTIFACT_PATH = "artifact-path"
    TAG_CONTENT = "tag-content"
    TAG_MISSING = "tag-missing"
    TAG_MOVED = "tag-moved"
    RECORD_REWRITTEN = "record-rewritten"
    LATEST_SUBTREE = "latest-subtree"
    ORPHAN_VERSION = "orphan-version"
    MODEL_NAME = "model-name"
    STAGE_SUBTREE = "stage-subtree"
    STAGE_STALE = "stage-stale"
    STAGE_UNKNOWN = "stage-unknown"
    POLICY_REQUIRES_STAGE = "policy-requires-stage"
    POLICY_METRIC = "policy-metric"
    POLICY_SIGNATURE = "policy-signature"
    POLICY_SIGNATURE_BINDING = "policy-signature-binding"
    PUSH_TAG = "push-tag"
    PUSH_MAIN = "push-main"

    @property
    def meaning(self) -> str:
        """What a finding under this rule means (``docs/policy.md`` lists them all)."""
        return _MEANINGS[self]


_MEANINGS: dict[Rule, str] = {
    Rule.CHECKOUT: "the repository lacks history, tags or branches the check needs",
    Rule.SCHEMA: "a registry.yaml, record or manifest does not parse",
    Rule.ARTIFACT: "an artifact does not match its manifest's sha256 and size",
    Rule.ARTIFACT_PATH: "a version's MLmodel names a file that is not one of its artifacts",
    Rule.TAG_CONTENT: "a version tag does not hold that model and version",
    Rule.TAG_MISSING: "a registered version has no tag",
    Rule.TAG_MOVED: "a version tag points somewhere other than where it was registered",
    Rule.RECORD_REWRITTEN: "a record's registration entries were changed",
    Rule.LATEST_SUBTREE: "main's models/<name>/ differs from its version tag",
    Rule.ORPHAN_VERSION: "main's models/<name>/ has no record models/<name>.yaml",
    Rule.MODEL_NAME: "a model name that the current name rules refuse",
    Rule.STAGE_SUBTREE: "a stage branch's models/<name>/ differs from its version tag",
    Rule.STAGE_STALE: "a stage holds a deleted or unregistered version, or a model without a record "
    "(readers ignore it)",
    Rule.STAGE_UNKNOWN: "the stage the ref under review is for cannot be told",
    Rule.POLICY_REQUIRES_STAGE: "the version was never in the stage the policy requires first",
    Rule.POLICY_METRIC: "a metric misses the policy's threshold",
    Rule.POLICY_SIGNATURE: "neither the stage move nor the version tag carries a valid signature",
    Rule.POLICY_SIGNATURE_BINDING: "a signed promotion commit does not name the stage, model and version it holds",
    Rule.PUSH_TAG: "a push moves or deletes a version tag",
    Rule.PUSH_MAIN: "a push deletes main or rewrites its history (not a fast-forward)",
}

RULES: dict[str, str] = {str(rule): rule.meaning for rule in Rule}
"""Every rule's name and its one-line meaning."""


@dataclass(frozen=True)
class Finding:
    """One thing that does not hold. ``file`` is ``<ref>:<path>``."""

    model: str | None
    version: int | None
    file: str
    rule: Rule
    message: str

    def line(self) -> str:
        version = f" v{self.version}" if self.version is not None else ""
        return f"{self.file}: {self.rule}: {self.model or '-'}{version}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "file": self.file,
            "rule": str(self.rule),
            "message": self.message,
        }
