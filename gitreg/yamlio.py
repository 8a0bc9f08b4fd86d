"""YAML in and out, always with the safe loader (manifests come from git
pushes; a custom tag must never construct an object)."""

from __future__ import annotations

from typing import Any

import yaml

from gitreg.errors import InvalidInputError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(text: bytes | str, where: str) -> Any:
    """Parse YAML; raise :class:`InvalidInputError` naming ``where`` on failure."""
    try:
        return yaml.load(text, Loader=_Loader)  # the C or Python *safe* loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidInputError(f"{where}: invalid YAML{at}: {problem}.") from None


def dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def load_mapping(text: bytes | str, where: str) -> dict[str, Any]:
    data = load(text, where)
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where}: expected a YAML mapping, got {type(data).__name__}.")
    return data
