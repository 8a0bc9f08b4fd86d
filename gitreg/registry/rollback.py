"""Rolling a stage back: which version held it before, from the stage branch's own history.

The stage's first-parent log of ``models/<name>/`` lists the states the branch
itself had, newest first (a pull request merged with a merge commit, a squash
and a revert are each one such state). The version to roll back to is the
newest one there that differs from what the stage holds now and is still a
version (live on main). The rollback itself is an ordinary promotion, so the
stage's policy applies and the move is one reviewable commit.
"""

from __future__ import annotations

from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.names import check_model_name, check_stage_name, check_version, display_stage
from gitreg.registry import layout
from gitreg.registry.reader import Reader, is_live


def held_versions(reader: Reader, name: str, stage: str) -> list[int]:
    """The versions ``stage`` held for ``name``, one per first-parent state, newest first (None-free)."""
    branch = layout.stage_ref(stage)
    if reader.store.ref(branch) is None:
        return []
    found = []
    for entry in reader.store.log(branch, [layout.version_dir(name)], first_parent=True):
        version = reader.version_at(entry.commit, name)
        if version is not None:
            found.append(version)
    return found


def rollback_target(reader: Reader, name: str, stage: str, to: int | None = None) -> tuple[int | None, int]:
    """``(current, target)``: what ``stage`` holds for ``name`` now and the version a rollback
    puts back. ``to`` must be a version the stage held before. NotFoundError when there is
    nothing to roll back to; InvalidInputError when ``to`` was never in the stage."""
    check_model_name(name)
    stage = check_stage_name(stage)
    record = reader.record(name)
    current = reader.stages_of(name, [stage], record=record).get(stage)
    history = held_versions(reader, name, stage)
    shown = display_stage(stage)
    if to is not None:
        to = check_version(to)
        if to not in history:
            raise InvalidInputError(
                f"{name} version {to} was never in {shown}, so there is nothing to roll back to; "
                f"promote it with 'gitreg promote {name} {to} {shown}'."
            )
        if to == current:
            raise InvalidInputError(f"{name} version {to} is what {shown} holds now.")
        return current, to
    for version in history:
        if version != current and is_live(record, version):
            return current, version
    raise NotFoundError(
        f"{shown} never held another version of {name!r} that still exists; nothing to roll back to "
        f"(git log --first-parent {layout.stage_branch(stage)} -- {layout.version_dir(name)})."
    )
