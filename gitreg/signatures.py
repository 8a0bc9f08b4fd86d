"""Refusing versions that are not signed: what ``--require-signed`` checks.

A version is trusted only if git verifies the signature on its tag (who
registered this content) and, when it was reached through a stage or alias,
on the stage's *promotion commit* for the model (who decided to deploy it),
and only if that commit's trailers name the stage, the model and the version
the stage holds. Without the binding, a signature would authorise whatever
it is found on: anyone able to push a stage branch could point production at
a signed staging promotion of the same version.

The promotion commit of model M on a stage (see :func:`promotion_commit`) is
found on the stage's first-parent history: the commit C that last changed
``models/M/``, or, when a later first-parent commit carries a
``Gitreg-Model: M`` trailer, the newest such commit (a re-signed promotion of
the version already held, which changes no tree: see
:func:`gitreg.registry.promotion.stage_updates`). First parents only, so a
pull request merged on a forge counts as the forge's merge commit, whose
trailers then decide.

The binding rule: the promotion commit's last paragraph holds exactly one
each of ``Gitreg-Stage: <canonical stage>``, ``Gitreg-Model: <name>`` and
``Gitreg-Version: <N>`` (what :meth:`Promotion.message` writes), and they
equal the stage, the model, and the version the stage's ``models/M/`` holds.

Verification is git's own (``git verify-tag`` / ``git verify-commit``), so
``gpg.format``, keyrings and ``gpg.ssh.allowedSignersFile`` mean what they
mean to git. ``gitreg check``'s ``require_signed`` policy accepts either
signature and reports a signed promotion commit that is not bound; this is
the stricter gate for loading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gitreg.errors import IntegrityError
from gitreg.registry import layout
from gitreg.registry.views import Resolved
from gitreg.store import GitStore, audit

if TYPE_CHECKING:
    from gitreg.registry import Registry

STAGE_TRAILER = "Gitreg-Stage"
MODEL_TRAILER = "Gitreg-Model"
VERSION_TRAILER = "Gitreg-Version"
_TRAILER = re.compile(r"(Gitreg-[A-Za-z]+):[ \t]*(\S.*?)\s*\Z")


@dataclass(frozen=True)
class Authorisation:
    """What a promotion commit's trailers name (None where a trailer is missing or repeated)."""

    stage: str | None = None
    model: str | None = None
    version: int | None = None

    def names(self, stage: str, model: str, version: int) -> bool:
        return (self.stage, self.model, self.version) == (stage, model, version)

    def __str__(self) -> str:
        if self.stage is None or self.model is None or self.version is None:
            return (
                f"nothing (it lacks a single {STAGE_TRAILER}, {MODEL_TRAILER} and {VERSION_TRAILER} trailer; "
                "a forge's merge or squash commit usually does)"
            )
        return f"{self.model} version {self.version} in {self.stage}"


def authorisation(message: str) -> Authorisation:
    """The ``Gitreg-*`` trailers of a commit message's last paragraph. A trailer
    given twice counts as missing: a signature must not authorise two things."""
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", message.strip()) if p.strip()]
    found: dict[str, list[str]] = {}
    for line in paragraphs[-1].splitlines() if len(paragraphs) > 1 else ():  # never the subject
        m = _TRAILER.match(line.strip())
        if m:
            found.setdefault(m.group(1).lower(), []).append(m.group(2))

    def one(key: str) -> str | None:
        values = found.get(key.lower(), [])
        return values[0] if len(values) == 1 else None

    stage, version = one(STAGE_TRAILER), one(VERSION_TRAILER)
    return Authorisation(
        stage.lower() if stage else None,  # stages are case-insensitive; the trailer is written canonical
        one(MODEL_TRAILER),
        int(version) if version and re.fullmatch(r"[1-9][0-9]{0,8}", version) else None,
    )


def promotion_commit(store: GitStore, rev: str, name: str) -> tuple[str, str] | None:
    """``(commit, message)`` of the commit on ``rev``'s first-parent history that
    authorises what its ``models/<name>/`` holds (see the module docstring), or
    None when ``models/<name>/`` was never there. Two ``git log`` calls."""
    path = layout.version_dir(name)
    changed = store.log(rev, [path], max_count=1, first_parent=True)
    if not changed:
        return None
    last = changed[0]
    for entry in store.log(f"{last.commit}..{rev}", first_parent=True):
        message = f"{entry.subject}\n\n{entry.body}"
        if authorisation(message).model == name:
            return entry.commit, message
    return last.commit, f"{last.subject}\n\n{last.body}"


@dataclass(frozen=True)
class StageSignature:
    """The promotion commit of one model on one stage and what git says of its signature."""

    commit: str | None
    valid: bool
    why: str  # git's last line of explanation
    authorises: Authorisation


def stage_signature(store: GitStore, rev: str, name: str) -> StageSignature:
    """Find ``name``'s promotion commit on ``rev`` (a stage branch, or a proposed state of one) and verify it."""
    found = promotion_commit(store, rev, name)
    if found is None:
        return StageSignature(None, False, "no promotion commit", Authorisation())
    commit, message = found
    valid, why = audit.verify_commit(store, commit)
    return StageSignature(commit, valid, why, authorisation(message))


def require_signed(registry: Registry, resolved: Resolved, stage: str | None, rev: str | None = None) -> None:
    """Raise :class:`IntegrityError` naming what is unsigned or unbound, else return.
    ``stage`` is the canonical stage the version was resolved through, if any; ``rev`` the
    stage's commit it was resolved at (an ``@when`` URI's past state), else the branch's tip:
    the promotion checked is the one that put the version there, not a later one."""
    ref = resolved.ref
    ok, why = audit.verify_tag(registry.store, layout.tag_ref(ref.name, ref.version))
    if not ok:
        raise IntegrityError(
            f"{ref.name} version {ref.version}: tag {ref.tag} has no valid signature ({why or 'unsigned'}); "
            "refusing to load it because signatures are required. Sign it (gitreg register --sign) or "
            "check the signing key is in gpg.ssh.allowedSignersFile / your keyring."
        )
    if stage is None:
        return
    signed = stage_signature(registry.store, rev or layout.stage_ref(stage), ref.name)
    move = (signed.commit or "")[:12]
    if not signed.valid:
        raise IntegrityError(
            f"{ref.name} version {ref.version}: the promotion to {stage} (commit {move}) has no valid "
            f"signature ({signed.why or 'unsigned'}); refusing to load it because signatures are required. Promote "
            "it with 'gitreg promote --sign' (or merge the pull request with a signed merge commit)."
        )
    if not signed.authorises.names(stage, ref.name, ref.version):
        raise IntegrityError(
            f"{ref.name} version {ref.version}: the signed promotion commit {move} authorises "
            f"{signed.authorises}, but {layout.stage_branch(stage)} holds {ref.name} version {ref.version} in "
            f"{stage}; refusing to load it because signatures are required. Promote it with "
            f"'gitreg promote {ref.name} {ref.version} {stage} --sign'."
        )
