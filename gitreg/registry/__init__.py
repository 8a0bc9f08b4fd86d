"""Registered models, versions and stages on a git store: the domain.

A version is a commit on ``main`` plus the annotated tag ``<name>/v<N>``; a
stage is the branch ``stages/<stage>`` whose ``models/<name>/`` subtree equals
the subtree of the tag it names (see the design brief and :mod:`.layout`).
The :class:`Registry` facade is the entry point; ``docs/architecture.md``
says which module owns which rule.
"""

from gitreg.config import DEFAULT_STAGES
from gitreg.registry.facade import Registry
from gitreg.registry.layout import CONFIG_FILE, MAIN, STAGE_PREFIX, stage_ref, tag_ref
from gitreg.registry.views import NewVersion, Package, Resolved, StageMove, VersionRef

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_STAGES",
    "MAIN",
    "STAGE_PREFIX",
    "NewVersion",
    "Package",
    "Registry",
    "Resolved",
    "StageMove",
    "VersionRef",
    "stage_ref",
    "tag_ref",
]
