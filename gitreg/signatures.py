"""Refusing versions that are not signed: what ``--require-signed`` checks.

A version is trusted only if git verifies the signature on its tag (who
registered this content) and, when it was reached through a stage or alias,
on the commit that last moved ``models/<name>/`` on that stage branch,
following first parents so that a pull request merged on a forge counts as
its merge commit (who decided to deploy it). Signing the promotion matters
on its own: with only tags checked, anyone able to push a stage branch could
roll production back to any older signed version.

Verification is git's own (``git verify-tag`` / ``git verify-commit``), so
``gpg.format``, keyrings and ``gpg.ssh.allowedSignersFile`` mean what they
mean to git. Note that ``gitreg check``'s ``require_signed`` policy accepts
either signature; this is the stricter gate for loading.
"""

from __future__ import annotations

from gitreg.errors import IntegrityError
from gitreg.registry import Registry, Resolved, stage_ref
from gitreg.store import audit


def require_signed(registry: Registry, resolved: Resolved, stage: str | None) -> None:
    """Raise :class:`IntegrityError` naming what is unsigned, else return.
    ``stage`` is the canonical stage the version was resolved through, if any."""
    ref = resolved.ref
    ok, why = audit.verify_tag(registry.store, f"refs/tags/{ref.tag}")
    if not ok:
        raise IntegrityError(
            f"{ref.name} version {ref.version}: tag {ref.tag} has no valid signature ({why or 'unsigned'}); "
            "refusing to load it because signatures are required. Sign it (gitreg register --sign) or "
            "check the signing key is in gpg.ssh.allowedSignersFile / your keyring."
        )
    if stage is None:
        return
    moves = registry.store.log(stage_ref(stage), [f"models/{ref.name}"], max_count=1, first_parent=True)
    move = moves[0].commit if moves else None
    ok, why = audit.verify_commit(registry.store, move) if move else (False, "no promotion commit")
    if not ok:
        raise IntegrityError(
            f"{ref.name} version {ref.version}: the promotion to {stage} (commit {(move or '')[:12]}) has no valid "
            f"signature ({why or 'unsigned'}); refusing to load it because signatures are required. Promote it "
            "with 'gitreg promote --sign' (or merge the pull request with a signed merge commit)."
        )
