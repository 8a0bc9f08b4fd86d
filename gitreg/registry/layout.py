"""Every ref and path name of a registry, and its parser: the one place the layout is spelled.

Refs::

    refs/heads/main                       the registry branch
    refs/tags/<name>/v<N>                 version N of model <name> (annotated, immutable)
    refs/heads/stages/<stage>             a stage or alias (canonical, lower-case)
    refs/heads/promote/<stage>/<name>-vN  a promotion waiting for review
    refs/remotes/origin/<branch>          a clone's copy of its origin's branch (``gitreg pull``)
    refs/gitreg/origin-tags/<tag>         a clone's copy of its origin's tag, until it is checked
    refs/gitreg/notified/<ledger>         what ``gitreg notify`` has delivered (its delivery ledger)

Paths on ``main`` (and, for ``models/<name>/``, on every stage branch)::

    registry.yaml                         the registry's configuration
    models/<name>.yaml                    the model's record (what may change)
    models/<name>/gitreg.yaml             the version's manifest (what may not)

A record path always ends in ``.yaml`` and a model name never does
(:func:`gitreg.names.check_model_name`), so no model's version directory can
be another model's record, whatever the file system's case rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from gitreg.manifest import MANIFEST_FILE

ALL_REFS = "refs/"
BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"
REMOTE_PREFIX = "refs/remotes/"
MAIN = BRANCH_PREFIX + "main"
MAIN_BRANCH = "main"
STAGE_BRANCH_PREFIX = "stages/"
STAGE_PREFIX = BRANCH_PREFIX + STAGE_BRANCH_PREFIX
PROPOSAL_BRANCH_PREFIX = "promote/"
ORIGIN_BRANCH_PREFIX = REMOTE_PREFIX + "origin/"  # a clone's copy of its origin's branches
ORIGIN_TAG_PREFIX = "refs/gitreg/origin-tags/"  # a clone's copy of its origin's tags, apart from its own
LEDGER_PREFIX = "refs/gitreg/notified/"  # gitreg notify's delivery ledgers, local to the repository
CONFIG_FILE = "registry.yaml"
MODELS_DIR = "models"
RECORD_SUFFIX = ".yaml"

_TAG = re.compile(r"(?:refs/tags/)?(?P<name>[^/]+)/v(?P<version>[1-9][0-9]{0,8})\Z")


def tag_name(name: str, version: int) -> str:
    """``<name>/v<N>``: the tag as users see it."""
    return f"{name}/v{version}"


def tag_ref(name: str, version: int) -> str:
    return TAG_PREFIX + tag_name(name, version)


def model_tags(name: str) -> str:
    """The ref prefix under which every tag of model ``name`` lives."""
    return f"{TAG_PREFIX}{name}/"


def parse_tag(ref: str) -> tuple[str, int] | None:
    """``(name, version)`` of a version tag (full ref or short name), else None."""
    m = _TAG.match(ref)
    return (m.group("name"), int(m.group("version"))) if m else None


def tag_numbers(name: str, refs: Iterable[str]) -> list[int]:
    """The version numbers among ``refs`` (ref names) that are tags of ``name``, sorted."""
    out = []
    for ref in refs:
        parsed = parse_tag(ref)
        if parsed is not None and parsed[0] == name:
            out.append(parsed[1])
    return sorted(out)


def stage_ref(stage: str) -> str:
    """The branch of a canonical stage name."""
    return STAGE_PREFIX + stage


def stage_branch(stage: str) -> str:
    """``stages/<stage>``: the branch as users see it."""
    return STAGE_BRANCH_PREFIX + stage


def stage_of(ref: str) -> str | None:
    """The stage a ``refs/heads/stages/<stage>`` ref names, else None."""
    if ref.startswith(STAGE_PREFIX) and "/" not in ref[len(STAGE_PREFIX) :]:
        return ref[len(STAGE_PREFIX) :]
    return None


def remote_branch(ref: str) -> str | None:
    """The branch a remote-tracking ref ``refs/remotes/<remote>/<branch>`` copies, else None."""
    if not ref.startswith(REMOTE_PREFIX):
        return None
    remote, sep, branch = ref[len(REMOTE_PREFIX) :].partition("/")
    return branch if remote and sep and branch else None


def branch_ref(branch: str) -> str:
    return BRANCH_PREFIX + branch


def proposal_branch(name: str, version: int, stage: str) -> str:
    return f"{PROPOSAL_BRANCH_PREFIX}{stage}/{name}-v{version}"


PROPOSAL_PREFIX = BRANCH_PREFIX + PROPOSAL_BRANCH_PREFIX
_PROPOSAL = re.compile(r"(?:refs/heads/)?promote/(?P<stage>[^/]+)/(?P<name>[^/]+)-v(?P<version>[1-9][0-9]{0,8})\Z")


def parse_proposal(ref: str) -> tuple[str, str, int] | None:
    """``(stage, name, version)`` of a proposal branch (full ref or short name), else None."""
    m = _PROPOSAL.match(ref)
    return (m.group("stage"), m.group("name"), int(m.group("version"))) if m else None


def short_ref(ref: str) -> str:
    """A ref without its ``refs/heads/``, ``refs/tags/`` or ``refs/remotes/`` prefix."""
    for prefix in (BRANCH_PREFIX, TAG_PREFIX, REMOTE_PREFIX):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def record_path(name: str) -> str:
    return f"{MODELS_DIR}/{name}{RECORD_SUFFIX}"


def version_dir(name: str) -> str:
    return f"{MODELS_DIR}/{name}"


def manifest_path(name: str) -> str:
    return f"{MODELS_DIR}/{name}/{MANIFEST_FILE}"


def record_name(entry: str) -> str | None:
    """The model whose record is the entry ``entry`` of ``models/``, else None."""
    return entry[: -len(RECORD_SUFFIX)] if entry.endswith(RECORD_SUFFIX) else None


def at(rev: str, path: str) -> str:
    """git's ``<rev>:<path>`` object name."""
    return f"{rev}:{path}"


def ledger_ref(name: str) -> str:
    """The ref of the delivery ledger ``name`` (one per receiver: ``default`` unless told)."""
    return LEDGER_PREFIX + name
