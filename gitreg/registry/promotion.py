"""Moving versions between stages and aliases: promote, demote, alias, and each stage's history.

A promotion is planned on main as well as on the stage: it leases main, so a
version deleted meanwhile cannot land in a stage (the delete's commit point is
main, and it moves the lease).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gitreg.config import RegistryConfig
from gitreg.errors import InvalidInputError, NotFoundError, PolicyError
from gitreg.manifest import ModelRecord
from gitreg.names import (
    Stage,
    check_alias,
    check_declared_stage,
    check_model_name,
    check_stage_name,
    display_stage,
    is_fixed_stage,
)
from gitreg.registry import layout
from gitreg.registry.layout import MAIN, at
from gitreg.registry.policy_gate import Candidate, Finding, PolicyGate, override_line
from gitreg.registry.reader import Reader, is_live
from gitreg.registry.views import StageMove, VersionRef
from gitreg.registry.writer import Plan, Writer, lease
from gitreg.store import MODE_TREE, RefUpdate, audit

Moves = dict[str, VersionRef | None]  # stage -> the version models/<name>/ becomes (None: removed)


def stage_updates(
    reader: Reader, name: str, moves: dict[str, str | None], message: str, messages: dict[str, str] | None = None
) -> list[RefUpdate]:
    """One new commit per stage that changes, setting its ``models/<name>/``; compare-and-swapped.
    Each commit's message is ``messages[stage]`` if given, else ``message``: a promotion's commit
    names (in its trailers) the one stage and version it authorises."""
    store = reader.store
    updates = []
    for stage, tree in moves.items():
        branch = layout.stage_ref(stage)
        head = store.ref(branch)
        root = store.commit_tree(head) if head else None
        new = store.edit_tree(root, {layout.version_dir(name): (MODE_TREE, tree) if tree else None})
        if root is not None and new == root and not (tree and head and _needs_signed_commit(reader, head, stage, name)):
            continue
        if root is None and tree is None:
            continue
        if tree is None and head and _is_empty_alias(reader, stage, new):
            updates.append(RefUpdate(branch, None, head))  # an alias that names nothing is no branch
            continue
        said = (messages or {}).get(stage, message)
        updates.append(RefUpdate(branch, store.write_commit(new, [head] if head else [], said), head))
    return updates


def _is_empty_alias(reader: Reader, stage: str, tree: str) -> bool:
    """Whether ``stage`` is an alias (not a declared stage) whose branch would hold no model."""
    if is_fixed_stage(stage) or stage in reader.config().stages:
        return False
    return not reader.store.read_tree(at(tree, layout.MODELS_DIR))


def _needs_signed_commit(reader: Reader, head: str, stage: str, name: str) -> bool:
    """Whether a stage that already holds ``name``'s version still needs a commit: the store signs
    and the head's promotion commit is no valid signature bound to this stage and version (e.g. an
    unsigned promotion a signed-only server refused). The new commit changes no tree; its trailers
    are what the signature authorises (:mod:`gitreg.signatures`)."""
    from gitreg import signatures  # it imports the registry package, which imports this module

    if not audit.signs_commits(reader.store):
        return False
    version = reader.version_at(head, name)
    signed = signatures.stage_signature(reader.store, head, name)
    return version is None or not (signed.valid and signed.authorises.names(stage, name, version))


def stage_entries(reader: Reader, name: str, stages: Iterable[str] | None = None) -> dict[str, int]:
    """Stage -> the version number its ``models/<name>/`` says, live or not (for tidying up)."""
    held = {}
    for stage in reader.stage_names() if stages is None else stages:
        version = reader.version_at(layout.stage_ref(stage), name)
        if version is not None:
            held[stage] = version
    return held


def prune_plan(reader: Reader, name: str, subject: str) -> Plan[None] | None:
    """Remove ``name`` from every stage whose entry is not a live version on main (deleted, or no record)."""
    head = reader.store.ref(MAIN)
    if head is None:
        return None
    record = reader.record_at(head, name)
    dead: dict[str, str | None] = {
        s: None for s, v in stage_entries(reader, name).items() if record is None or not is_live(record, v)
    }
    updates = stage_updates(reader, name, dead, subject)
    return Plan(None, subject, updates, leases=[lease(MAIN, head)]) if updates else None


class Promotion:
    """Puts versions in stages and takes them out."""

    def __init__(self, reader: Reader, writer: Writer) -> None:
        self.read = reader
        self.writer = writer
        self.store = reader.store

    def _move(
        self,
        name: str,
        decide: Callable[[VersionRef | None, ModelRecord, dict[str, int]], tuple[Moves, str]],
        version: int | None = None,
        *,
        override: str | None = None,
    ) -> dict[str, int]:
        """Plan stage moves of ``name`` on the current main and stages; returns the stages held after.

        Every stage a move puts a version in is held to its policy (``registry.yaml`` on the main
        the plan leases) before anything is published: :class:`PolicyError` with the findings,
        unless ``override`` (a reason, already recorded in the commit messages) is given; then the
        findings become a warning."""
        overridden: list[Finding] = []

        def plan() -> Plan[dict[str, int]]:
            head = self.store.ref(MAIN)
            record = self.read.record_at(head, name) if head else None
            if head is None or record is None:
                raise NotFoundError(self.read.missing_model_message(name))
            ref = self.read.version_ref(name, version, record=record) if version is not None else None
            held = self.read.stages_of(name, record=record)
            moves, message = decide(ref, record, held)
            messages = self._messages(moves, held, message, override)
            trees = {s: (r.tree if r else None) for s, r in moves.items()}
            updates = stage_updates(self.read, name, trees, message, messages)
            overridden[:] = self._enforce(head, name, moves, updates, override)
            after = {s: v for s, v in held.items() if s not in moves}
            after.update({s: r.version for s, r in moves.items() if r is not None})
            return Plan(after, message.splitlines()[0], updates, leases=[lease(MAIN, head)])

        after = self.writer.write(plan, what=f"the stages of {name!r}")
        if overridden:
            self.writer.warnings.append(
                f"{name}: the promotion policy was overridden ({override}): " + "; ".join(f.line() for f in overridden)
            )
        return after

    def _enforce(
        self, main: str, name: str, moves: Moves, updates: list[RefUpdate], override: str | None
    ) -> list[Finding]:
        """The policy findings of the stage commits ``updates`` (planned, not yet published), by
        :class:`~gitreg.registry.policy_gate.PolicyGate`: raises :class:`PolicyError` unless
        ``override``; returns what the override overrides."""
        config = self.read.parsed(at(main, layout.CONFIG_FILE), RegistryConfig, layout.CONFIG_FILE)
        if config is None or not config.policy:
            return []
        gate = PolicyGate(self.store, {s: layout.stage_ref(s) for s in self.read.stage_names()})
        found: list[Finding] = []
        for update in updates:
            stage = layout.stage_of(update.ref)
            ref = moves.get(stage) if stage else None
            if stage is None or ref is None or update.new is None or stage not in config.policy:
                continue
            tag = layout.tag_ref(name, ref.version)
            candidate = Candidate(
                name, ref.version, tag, ref.tree, ref.manifest, update.new, layout.stage_branch(stage)
            )
            found += gate.evaluate(config.policy[stage], candidate)
        if found and override is None:
            raise PolicyError(
                f"The promotion policy ({layout.CONFIG_FILE} on main) refuses this: "
                + " ".join(f.message for f in found)
                + " Nothing was promoted. To promote anyway, on the record, pass --override-policy REASON "
                "(promote(..., override_policy=REASON)).",
                tuple(found),
            )
        return found

    def _messages(
        self, moves: Moves, held: dict[str, int], message: str, override: str | None = None
    ) -> dict[str, str]:
        """A promotion message of its own for every stage a move puts a version in besides the one
        the write is about (Archived, with ``archive_existing``), so each commit authorises its stage."""
        first = next(iter(moves), None)
        return {
            s: self.message(ref, s, held.get(s), override)
            for s, ref in moves.items()
            if ref is not None and s != first and message.startswith("Promote")
        }

    def move(
        self,
        name: str,
        version: int,
        stage: str | Stage,
        archive_existing: bool = False,
        exclusive_fixed: bool = True,
        override_policy: str | None = None,
    ) -> tuple[VersionRef, dict[str, int]]:
        """Put ``version`` of ``name`` in ``stage``: the one dispatch of every interface (client,
        CLI, UI). Returns the version and the stages it is in now.

        "None" takes the version out of every fixed stage (MLflow's transition
        to None). A fixed stage (Staging, Production, Archived) holds one
        version and, with ``exclusive_fixed`` (MLflow's behaviour), the version
        leaves the other fixed stages; ``archive_existing`` then moves the
        version the stage held before to Archived, as MLflow's
        ``archive_existing_versions``. Any other name must be a declared stage
        (a typo never creates a branch; aliases move with :meth:`set_alias`).

        The stage's policy (``registry.yaml`` on main) is enforced before anything is written:
        :class:`~gitreg.errors.PolicyError` lists what it refuses. ``override_policy`` (a reason)
        promotes anyway, recording ``Gitreg-Policy-Override: <reason>`` in the promotion commit
        and warning through the ``gitreg`` logger."""
        target = Stage.parse(stage)
        if target.is_none:
            held = self.demote_version(name, version)
            return self.read.version_ref(name, version), held
        declared = self.read.config().stages
        if not (target.fixed or target.name in declared):
            check_declared_stage(target, declared, self.read.stage_names())
        return self.promote(
            name,
            version,
            target.name,
            archive_existing=archive_existing and target.fixed,
            exclusive_fixed=exclusive_fixed,
            override_policy=override_policy,
        )

    def set_alias(self, name: str, alias: str, version: int) -> tuple[VersionRef, dict[str, int]]:
        """Point ``alias`` at ``version`` (an alias is any name that is not one of the registry's
        stages, ``latest``, ``v<N>`` or "None"); the version's stages stay as they are."""
        if isinstance(alias, str) and alias.lower() == "none":
            raise InvalidInputError(f"{alias!r} cannot be an alias: 'None' means no stage.")
        target = check_alias(alias, self.read.config().stages)
        return self.promote(name, version, target, archive_existing=False, exclusive_fixed=False)

    def delete_alias(self, name: str, alias: str) -> int:
        """Remove ``alias`` from model ``name``; returns the version it named. An alias branch left
        holding no model is deleted with it; :class:`NotFoundError` when the model has no such alias."""
        target = Stage.parse(alias)
        held = None if target.is_none else self.demote(name, target.name)
        if held is None:
            raise NotFoundError(f"Model {name!r} has no alias {target.shown!r}.")
        return held

    def promote(
        self,
        name: str,
        version: int,
        stage: str,
        *,
        archive_existing: bool = False,
        exclusive_fixed: bool = True,
        override_policy: str | None = None,
    ) -> tuple[VersionRef, dict[str, int]]:
        """Put ``version`` of ``name`` in ``stage`` (one commit on ``stages/<stage>``).

        Raises :class:`PolicyError` when the stage's policy refuses it, unless
        ``override_policy`` gives a reason, which the commit records as a
        ``Gitreg-Policy-Override`` trailer."""
        if override_policy is not None and not override_policy.strip():
            raise InvalidInputError("An override of the promotion policy needs a reason.")
        target = check_stage_name(stage)

        def decide(ref: VersionRef | None, record: ModelRecord, held: dict[str, int]) -> tuple[Moves, str]:
            assert ref is not None
            moves: Moves = {target: ref}
            previous = held.get(target)
            if exclusive_fixed and is_fixed_stage(target):
                for s, v in held.items():
                    if s != target and is_fixed_stage(s) and v == ref.version:
                        moves[s] = None
            if archive_existing and previous is not None and previous != ref.version and target != "archived":
                moves["archived"] = self.read.version_ref(name, previous, record=record)
            return moves, self.message(ref, target, previous, override_policy)

        ref = self.read.version_ref(name, version)
        return ref, self._move(name, decide, ref.version, override=override_policy)

    def message(self, ref: VersionRef, stage: str, previous: int | None, override: str | None = None) -> str:
        """The commit message of putting ``ref`` in ``stage``: from which version to which, how
        each shared metric changes, and trailers naming what the commit authorises (a signature
        over it is bound to this stage and version)."""
        shown = display_stage(stage)
        lines = [f"Promote {ref.name} version {ref.version} to {shown}", ""]
        if previous is not None and previous != ref.version:
            lines.append(f"{shown}: version {previous} -> {ref.version}")
            try:
                old = self.read.version_ref(ref.name, previous).manifest.metrics
            except NotFoundError:
                old = {}
            for k, value in sorted(ref.manifest.metrics.items()):
                if k in old:
                    lines.append(f"{k}: {old[k]:g} -> {value:g} ({value - old[k]:+g})")
        else:
            lines.append(f"{shown}: (none) -> version {ref.version}")
        lines += ["", f"Gitreg-Stage: {stage}", f"Gitreg-Model: {ref.name}", f"Gitreg-Version: {ref.version}"]
        if override is not None:
            lines.append(override_line(override))
        return "\n".join(lines)

    def demote(self, name: str, stage: str) -> int | None:
        """Remove ``name`` from ``stage`` (whatever it holds there, live or not); returns the version it held."""
        check_model_name(name)
        target = check_stage_name(stage)
        before: list[int | None] = []

        def decide(ref: VersionRef | None, record: ModelRecord, held: dict[str, int]) -> tuple[Moves, str]:
            entry = stage_entries(self.read, name, [target]).get(target)
            before.append(held.get(target))
            return ({target: None} if entry is not None else {}), f"Remove {name} from {display_stage(target)}"

        self._move(name, decide)
        return before[-1] if before else None

    def demote_version(self, name: str, version: int) -> dict[str, int]:
        """MLflow's transition to stage "None": the version leaves every fixed stage."""

        def decide(ref: VersionRef | None, record: ModelRecord, held: dict[str, int]) -> tuple[Moves, str]:
            assert ref is not None
            moves: Moves = {s: None for s, v in held.items() if v == ref.version and is_fixed_stage(s)}
            return moves, f"Move {name} version {ref.version} to no stage"

        return self._move(name, decide, version)

    def history(self, name: str, stages: Iterable[str] | None = None) -> list[StageMove]:
        """Stage moves of ``name`` from each stage branch's log, newest first."""
        check_model_name(name)
        moves = []
        for stage in self.read.stage_names() if stages is None else [check_stage_name(s) for s in stages]:
            branch = layout.stage_ref(stage)
            if self.store.ref(branch) is None:
                continue
            # First parents only: a stage move merged from a pull request is the
            # merge commit on the stage branch, not the commits it brought in.
            for entry in self.store.log(branch, [layout.version_dir(name)], first_parent=True):
                now = self.read.version_at(entry.commit, name)
                before = self.read.version_at(entry.parents[0], name) if entry.parents else None
                moves.append(
                    StageMove(
                        display_stage(stage),
                        now,
                        before,
                        entry.commit,
                        entry.author,
                        entry.author_time,
                        entry.subject,
                        entry.body,
                    )
                )
        return sorted(moves, key=lambda m: m.time, reverse=True)
