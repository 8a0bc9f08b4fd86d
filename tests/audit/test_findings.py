"""A finding names its rule with a :class:`Rule`, which reads, compares and serialises as the rule's name."""

from __future__ import annotations

import json

from gitreg.audit.findings import RULES, Finding, Rule


def test_a_rule_is_its_name_wherever_it_is_shown() -> None:
    finding = Finding("m", 2, "main:models/m/", Rule.LATEST_SUBTREE, "differs from tag m/v2.")
    assert finding.rule == "latest-subtree"
    assert finding.line() == "main:models/m/: latest-subtree: m v2: differs from tag m/v2."
    assert json.loads(json.dumps(finding.to_dict()))["rule"] == "latest-subtree"
    assert type(finding.to_dict()["rule"]) is str


def test_every_rule_says_what_its_findings_mean() -> None:
    assert all(rule.meaning and not rule.meaning.endswith(".") for rule in Rule)
    assert {rule.value: rule.meaning for rule in Rule} == RULES


def test_rule_names_are_lowercase_words_joined_by_hyphens() -> None:
    assert all(rule.value == rule.name.lower().replace("_", "-") for rule in Rule)
