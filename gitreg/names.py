"""Validation of the names users choose: models, stages/aliases, tag keys.

Model and stage names become git ref components and directory names, so they
are held to a subset that is safe on every filesystem and in every git ref:
no path traversal, no option injection (leading ``-``), no ref syntax
(``@{``, ``.lock``, ``..``), and unique regardless of case so that clones on
macOS and Windows keep working.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitreg.errors import InvalidInputError

MAX_NAME = 100
_MODEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
_STAGE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
_RESERVED_STAGES = {"none", "latest", "head", "main"}
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)}

#: MLflow's fixed stages, in the order ``current_stage`` prefers them.
FIXED_STAGES = ("Production", "Staging", "Archived")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_model_name(name: object) -> str:
    """Return ``name`` if it is a valid registered-model name, else raise.

    Allowed: letters, digits, ``_``, ``-`` and ``.``, starting with a letter
    or digit, at most 100 characters, not ending in ``.``, ``.lock`` or
    ``.yaml`` (in any case) and without ``..``.
    """
    if not isinstance(name, str):
        raise InvalidInputError(f"Model name must be a string, got {type(name).__name__}.")
    problem = None
    if not name:
        problem = "it is empty"
    elif len(name) > MAX_NAME:
        problem = f"it is longer than {MAX_NAME} characters"
    elif not _MODEL_RE.match(name):
        problem = "it may only contain letters, digits, '_', '-' and '.', and must start with a letter or digit"
    elif ".." in name or name.endswith(".") or name.lower().endswith(".lock"):
        problem = "it may not contain '..' or end with '.' or '.lock'"
    elif name.lower().endswith(".yaml"):
        # models/<name>.yaml is a model's record: a model named "foo.yaml" would have its
        # version directory where the record of "foo" lives (on any file system's case rules)
        problem = "it may not end with '.yaml', the suffix of a model's record file"
    elif name.split(".")[0].lower() in _WINDOWS_RESERVED:
        problem = "it is a reserved device name on Windows"
    if problem:
        raise InvalidInputError(f"Invalid model name {_show(name)}: {problem}.")
    return name


def check_stage_name(stage: object) -> str:
    """Return the canonical (lower-case) branch name of a stage or alias.

    Stages are case-insensitive: ``Production``, ``production`` and
    ``PRODUCTION`` are the branch ``stages/production``.
    """
    if not isinstance(stage, str):
        raise InvalidInputError(f"Stage name must be a string, got {type(stage).__name__}.")
    if not stage or len(stage) > 64 or not _STAGE_RE.match(stage) or stage.lower().endswith(".lock"):
        raise InvalidInputError(
            f"Invalid stage or alias {_show(stage)}: use 1-64 letters, digits, '_' or '-', "
            "starting with a letter (e.g. Staging, Production, champion)."
        )
    if stage.lower() in _RESERVED_STAGES:
        raise InvalidInputError(f"{_show(stage)} is reserved and cannot be used as a stage or alias name.")
    return stage.lower()


def display_stage(branch_stage: str) -> str:
    """The name users see for a stage branch: MLflow's spelling for its fixed stages."""
    for fixed in FIXED_STAGES:
        if fixed.lower() == branch_stage:
            return fixed
    return branch_stage


def is_fixed_stage(stage: str) -> bool:
    return stage.lower() in {s.lower() for s in FIXED_STAGES}


@dataclass(frozen=True)
class Stage:
    """A stage or alias as one value, or MLflow's "None" (in no stage).

    ``name`` is the canonical branch name (``production``), ``shown`` the name
    users see (``Production``: MLflow's spelling for its fixed stages), and
    ``fixed`` says whether it is one of Staging, Production, Archived, where a
    version is in at most one (MLflow's ``current_stage``); any other name is
    an alias. Every interface parses what the user typed into this value once."""

    name: str

    @classmethod
    def parse(cls, raw: object) -> Stage:
        """The stage ``raw`` names (case-insensitive); "None" is :data:`NO_STAGE`."""
        if isinstance(raw, Stage):
            return raw
        if isinstance(raw, str) and raw.lower() == "none":
            return NO_STAGE
        return cls(check_stage_name(raw))

    @property
    def is_none(self) -> bool:
        return self.name == "none"

    @property
    def fixed(self) -> bool:
        return is_fixed_stage(self.name)

    @property
    def shown(self) -> str:
        return "None" if self.is_none else display_stage(self.name)

    def __str__(self) -> str:
        return self.shown


#: MLflow's "None": a version in no fixed stage.
NO_STAGE = Stage("none")

_VERSION_ALIAS = re.compile(r"v[0-9]+\Z", re.IGNORECASE)


def check_alias(alias: object, stages: tuple[str, ...]) -> str:
    """The canonical name of an alias, refused where it would read as something else: one of the
    registry's ``stages``, MLflow's reserved ``latest`` or a version (``v3``), or "None"."""
    name = check_stage_name(alias)
    if name in stages or is_fixed_stage(name):
        raise InvalidInputError(
            f"{_show(alias)} is a stage of this registry, not an alias: move a version there with "
            f"'gitreg promote MODEL VERSION {display_stage(name)}'."
        )
    if _VERSION_ALIAS.match(name):
        raise InvalidInputError(f"{_show(alias)} cannot be an alias: 'v<N>' names version N.")
    return name


def check_declared_stage(stage: Stage, stages: tuple[str, ...], aliases: list[str]) -> Stage:
    """``stage`` if the registry declares it (MLflow's fixed stages and ``registry.yaml``'s), else
    an InvalidInputError with the closest declared name, so a typo never creates a new branch."""
    import difflib

    if stage.is_none or stage.fixed or stage.name in stages:
        return stage
    declared = sorted({*(f.lower() for f in FIXED_STAGES), *stages})
    near = difflib.get_close_matches(stage.name, declared, n=1, cutoff=0.6)
    hint = f" Did you mean {display_stage(near[0])!r}?" if near else ""
    alias = (
        f" {stage.name!r} is an alias of this model: point it with 'gitreg alias set MODEL {stage.name} VERSION'."
        if stage.name in aliases
        else " To point an alias, use 'gitreg alias set MODEL ALIAS VERSION'; to add a stage, list it under "
        "'stages:' in registry.yaml."
    )
    shown = ", ".join(["None", *(display_stage(s) for s in declared)])
    raise InvalidInputError(f"{_show(stage.name)} is not a stage of this registry (stages: {shown}).{hint}{alias}")


def check_version(version: object) -> int:
    """Return a version number as an int (accepting ``"3"``), else raise."""
    if isinstance(version, bool):
        raise InvalidInputError(f"Invalid version {_show(version)}: versions are positive integers.")
    if isinstance(version, int):
        value = version
    elif isinstance(version, str) and version.isascii() and version.isdigit() and len(version) < 10:
        value = int(version)
    else:
        raise InvalidInputError(f"Invalid version {_show(version)}: versions are positive integers like 1, 2, 3.")
    if value < 1:
        raise InvalidInputError(f"Invalid version {value}: versions start at 1.")
    return value


def check_tag_key(key: object) -> str:
    """Tag keys are YAML keys, not refs: any printable text up to 250 characters."""
    if not isinstance(key, str) or not key or len(key) > 250 or not key.isprintable() or key != key.strip():
        raise InvalidInputError(
            f"Invalid tag key {_show(key)}: use 1-250 printable characters without leading or trailing spaces."
        )
    return key


def is_storable(text: str) -> bool:
    """Whether ``text`` can be written to a UTF-8 file: no NUL, no lone surrogate
    (a Python str can hold one; YAML and git cannot)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_tag_value(key: str, value: object) -> str:
    """Tag values are strings (MLflow stores them as strings too)."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        value = str(value)
    if not isinstance(value, str):
        raise InvalidInputError(f"Tag {key!r} must have a string value, got {type(value).__name__}.")
    if len(value) > 5000 or not is_storable(value):
        raise InvalidInputError(
            f"Tag {key!r}: value must be under 5000 characters of valid Unicode text without NUL bytes."
        )
    return value


def check_tags(tags: object) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise InvalidInputError(f"Tags must be a mapping of strings, got {type(tags).__name__}.")
    return {check_tag_key(k): check_tag_value(k, v) for k, v in tags.items()}


def check_description(text: object) -> str:
    if text is None:
        return ""
    if not isinstance(text, str) or not is_storable(text) or len(text) > 100_000:
        raise InvalidInputError("Description must be valid Unicode text under 100,000 characters without NUL bytes.")
    return text
