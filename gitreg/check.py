"""``gitreg check``'s public import path: a re-export of :mod:`gitreg.audit`, where each rule lives.

:func:`check_registry` verifies a registry the way CI should; :func:`check_staged`
what a work tree's index would commit (for pre-commit); :func:`check_push` what
a push would do (for the pre-receive hook of :mod:`gitreg.hooks`).
"""

from __future__ import annotations

from gitreg.audit.checker import check_registry, check_staged
from gitreg.audit.findings import RULES, Finding, Rule
from gitreg.audit.push import PushedRef, check_push
from gitreg.audit.review import stage_of_refname
from gitreg.audit.state import FULL_HISTORY_HINT

__all__ = [
    "FULL_HISTORY_HINT",
    "RULES",
    "Finding",
    "PushedRef",
    "Rule",
    "check_push",
    "check_registry",
    "check_staged",
    "stage_of_refname",
]
