"""The promotion policy in ``registry.yaml``: what a version must satisfy to
be held by a stage. See ``docs/policy.md`` for the format.

Only parsing and the pure metric test live here; :mod:`gitreg.check` decides
where the policy is read from (the trusted base, never the branch under
review) and what git evidence each rule needs.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitreg.errors import InvalidInputError
from gitreg.names import check_stage_name

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_THRESHOLD = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*([-+0-9.eE]+|inf|-inf)\s*\Z")
_KEYS = {"requires_stage", "metrics", "require_signed"}


@dataclass(frozen=True)
class Threshold:
    metric: str
    op: str
    value: float

    def holds(self, actual: float) -> bool:
        return _OPS[self.op](actual, self.value)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"


@dataclass(frozen=True)
class StagePolicy:
    stage: str
    requires_stage: str | None = None
    metrics: tuple[Threshold, ...] = ()
    require_signed: bool = False


def parse_threshold(metric: str, raw: object, where: str) -> Threshold:
    text = str(raw) if isinstance(raw, str | int | float) and not isinstance(raw, bool) else ""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        text = f">= {raw}"  # a bare number means "at least"
    m = _THRESHOLD.match(text)
    if not m:
        raise InvalidInputError(
            f"{where}: metric {metric!r} threshold {raw!r} must look like '>= 0.9' (operators >= <= > < == !=)."
        )
    value = float(m.group(2))
    if math.isnan(value):
        raise InvalidInputError(f"{where}: metric {metric!r} threshold must be a number.")
    return Threshold(metric, m.group(1), value)


def parse_policy(config: dict[str, Any], where: str) -> dict[str, StagePolicy]:
    """Stage (canonical name) -> its policy, from a parsed ``registry.yaml``."""
    raw = config.get("policy") or {}
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where}: 'policy' must map stage names to rules.")
    out = {}
    for stage_raw, rules in raw.items():
        at = f"{where}: policy.{stage_raw}"
        try:
            stage = check_stage_name(stage_raw)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{at}: {exc}") from None
        rules = rules or {}
        if not isinstance(rules, dict):
            raise InvalidInputError(f"{at} must be a mapping with {', '.join(sorted(_KEYS))}.")
        unknown = set(rules) - _KEYS
        if unknown:
            raise InvalidInputError(
                f"{at}: unknown rule(s) {', '.join(sorted(map(str, unknown)))}; known: {', '.join(sorted(_KEYS))}."
            )
        requires = rules.get("requires_stage")
        if requires is not None:
            try:
                requires = check_stage_name(requires)
            except InvalidInputError as exc:
                raise InvalidInputError(f"{at}.requires_stage: {exc}") from None
        metrics = rules.get("metrics") or {}
        if not isinstance(metrics, dict):
            raise InvalidInputError(f"{at}.metrics must map metric names to thresholds such as '>= 0.9'.")
        signed = rules.get("require_signed", False)
        if not isinstance(signed, bool):
            raise InvalidInputError(f"{at}.require_signed must be true or false.")
        out[stage] = StagePolicy(
            stage=stage,
            requires_stage=requires,
            metrics=tuple(parse_threshold(str(k), v, f"{at}.metrics") for k, v in metrics.items()),
            require_signed=signed,
        )
    return out
