from __future__ import annotations

import pytest

from gitreg.errors import InvalidInputError
from gitreg.policy import StagePolicy, Threshold, parse_policy


def test_policy_parses_every_rule() -> None:
    config = {
        "policy": {
            "Production": {
                "requires_stage": "Staging",
                "metrics": {"accuracy": ">= 0.9", "latency_ms": "<50", "f1": 0.5},
                "require_signed": True,
            }
        }
    }
    assert parse_policy(config, "registry.yaml") == {
        "production": StagePolicy(
            "production",
            "staging",
            (Threshold("accuracy", ">=", 0.9), Threshold("latency_ms", "<", 50), Threshold("f1", ">=", 0.5)),
            True,
        )
    }


def test_no_policy_is_an_empty_policy() -> None:
    assert parse_policy({"format": 1}, "registry.yaml") == {}


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"require_sigend": True}, "unknown rule"),
        ({"metrics": {"accuracy": "about 0.9"}}, "must look like '>= 0.9'"),
        ({"metrics": ["accuracy"]}, "map metric names"),
        ({"require_signed": "yes"}, "true or false"),
        ({"requires_stage": "../main"}, "requires_stage"),
    ],
)
def test_policy_mistakes_are_refused_naming_the_file(rules: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=r"registry\.yaml: policy\.production") as exc:
        parse_policy({"policy": {"production": rules}}, "registry.yaml")
    assert message in str(exc.value)


@pytest.mark.parametrize(("op", "value", "actual", "holds"), [(">=", 0.9, 0.9, True), ("<", 50, 50, False)])
def test_threshold_holds(op: str, value: float, actual: float, holds: bool) -> None:
    assert Threshold("m", op, value).holds(actual) is holds
