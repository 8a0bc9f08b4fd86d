"""The subset of MLflow's search filter grammar the registry calls accept:
clauses joined by ``AND``, each ``name``/``run_id``/``tags.<key>``/``source``
compared with ``=``, ``!=``, ``LIKE`` or ``ILIKE`` to a quoted string."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from gitreg.errors import InvalidInputError

_CLAUSE = re.compile(
    r"""\s*(?P<key>tags\.`[^`]+`|tags\.[\w.\-]+|[A-Za-z_]+)\s*(?P<op>!=|=|ILIKE|LIKE)\s*(?P<q>['"])(?P<val>.*?)(?P=q)\s*""",
    re.IGNORECASE,
)
_FIELDS = ("name", "run_id", "source", "version", "current_stage")


@dataclass(frozen=True)
class Clause:
    key: str  # "name", "run_id", "source", ... or "tags.<key>"
    op: str
    value: str

    def matches(self, actual: str | None) -> bool:
        if actual is None:
            return self.op == "!="
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in self.value)
        flags = re.IGNORECASE if self.op == "ILIKE" else 0
        return re.fullmatch(pattern, actual, flags | re.DOTALL) is not None


def parse(filter_string: str | None) -> list[Clause]:
    if not filter_string or not filter_string.strip():
        return []
    clauses = []
    for part in re.split(r"\s+AND\s+", filter_string.strip(), flags=re.IGNORECASE):
        m = _CLAUSE.fullmatch(part)
        if not m:
            raise InvalidInputError(
                f"Cannot parse filter {part[:80]!r}: use clauses like name='X', name LIKE 'X%', "
                "tags.k='v' joined by AND."
            )
        key = m.group("key")
        if key.lower().startswith("tags."):
            key = "tags." + key[5:].strip("`")
        elif key.lower() not in _FIELDS:
            raise InvalidInputError(f"Unknown filter field {key!r}; use one of {', '.join(_FIELDS)} or tags.<key>.")
        else:
            key = key.lower()
        clauses.append(Clause(key, m.group("op").upper(), m.group("val")))
    return clauses


def matcher(clauses: list[Clause], get: Callable[[str], str | None]) -> bool:
    return all(c.matches(get(c.key)) for c in clauses)
