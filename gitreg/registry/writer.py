"""The one write protocol: plan on current heads, publish in crash-safe order, re-plan when another writer won.

Every write (register, rename, delete, promote, alias, metadata) is a
:class:`Plan` computed from the heads it read, published by
:meth:`Writer.write`:

1. ``prepare``: refs nothing reads until the commit point names them (a new
   version's tag; a renamed model's stage entries, whose record does not
   exist yet), created in one transaction that also verifies every ref the
   commit point will move and every lease still holds what was planned on;
2. ``commit``: the commit point, one transaction that moves the refs that
   make the write happen while verifying the prepared refs are still ours.
   git's files backend renames ref locks one at a time, so a process killed
   inside a transaction can leave any subset of it applied: the commit point
   is one ref, or refs of which every subset is a valid registry (stage
   branches, each of which holds its own verified version);
3. ``then``: the tidy-up the commit point made due (a deleted version leaving
   its stages, a renamed model's old stage entries), planned afresh after it.
   Until it lands, readers ignore what it removes; a crash before it leaves a
   valid registry that ``gitreg check`` reports.

A lost compare-and-swap anywhere is :class:`RefConflict`: the plan is made
again on the new heads, with back-off, under one :class:`RetryPolicy`. Refs
are abandoned (deleted, or moved back, if still ours) only after the commit point failed in a
way that proves it did not happen (a lease refused, a remote's explicit
refusal); any other failure keeps them, since the write may have reached a
remote, and a write that reached the remote is never undone.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from gitreg.errors import ConflictError, GitregError, IntegrityError
from gitreg.registry.freshness import Freshness
from gitreg.registry.layout import MAIN, short_ref, stage_of
from gitreg.store import GitStore, RefConflict, RefUpdate, worktree

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a write is re-planned after losing a race.

    Writers contending for one ref can only land one at a time, so a loser
    that tried again at once would mostly lose again, and its wasted round
    trips would slow the winner (on a remote they are processes on both
    ends); one that waited too long would leave the remote idle. The pause
    after a loss is measured in lengths of the attempt just lost (a slow
    remote spreads retries further than a local repository does) and grows
    with the races lost in a row, which count the writers contending (each
    one that lands is a loss for the others): about one attempt length per
    loss, up to ``spread`` of them, jittered so writers that lost together
    do not retry together."""

    attempts: int = 200
    first_delay: float = 0.002
    max_delay: float = 0.25
    spread: int = 64

    def pauses(self) -> Iterator[None]:
        """Yield once per attempt, sleeping with jittered exponential back-off between attempts."""
        delay = self.first_delay
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, self.max_delay)
            yield None

    def backoff(self, lost: int, took: float) -> float:
        """Seconds to wait after the ``lost``-th lost race in a row, whose attempt took ``took``
        seconds: ``min(lost, spread)`` attempt lengths, times a uniform draw from 0.5 to 1.5."""
        return max(self.first_delay, took) * min(max(lost, 1), self.spread) * random.uniform(0.5, 1.5)


@dataclass
class Plan(Generic[T]):
    """One write, planned against the heads it read (see the module docstring for the three steps)."""

    result: T
    subject: str
    commit: list[RefUpdate]
    prepare: list[RefUpdate] = field(default_factory=list)
    leases: list[RefUpdate] = field(default_factory=list)
    then: Callable[[], Plan[Any] | None] | None = None
    done: str | None = None  # what was achieved, for a work-tree warning (default: the subject)


def lease(ref: str, value: str) -> RefUpdate:
    """A ref the plan relies on, which must still hold ``value`` when it is published."""
    return RefUpdate(ref, value, value)


class Writer:
    """Publishes plans on one store; collects the warnings a write leaves for its caller."""

    def __init__(
        self, store: GitStore, fresh: Freshness, warnings: list[str], retry: RetryPolicy | None = None
    ) -> None:
        self.store = store
        self.fresh = fresh
        self.warnings = warnings
        self.retry = retry or RetryPolicy()

    def write(self, planner: Callable[[], Plan[T]], *, what: str = "the registry") -> T:
        """Plan and publish until the plan lands; ConflictError if other writers kept winning.

        A race lost while publishing leaves the store re-read where the write
        needs it (a mirror fetches the refs the push named); one lost while
        planning (another writer's registration seen in flight) looks at the
        source again before the next plan. Objects a lost attempt wrote stay
        and are reused by the next plan where it makes the same ones."""
        stale = False
        for lost in range(self.retry.attempts):
            started, planned = time.monotonic(), False  # an attempt's length includes looking at the source
            if stale:
                self.fresh.force()
            else:
                self.fresh.before_write()
            self.check_main()
            try:
                plan = planner()
                planned = True
                if not plan.commit and not plan.prepare:
                    return plan.result
                self._publish(plan)
            except RefConflict:
                stale = not planned
                if lost + 1 < self.retry.attempts:
                    time.sleep(self.retry.backoff(lost + 1, time.monotonic() - started))
                continue
            self._landed(plan)
            return plan.result
        raise ConflictError(f"Gave up writing {what} after {self.retry.attempts} attempts: other writers kept winning.")

    def _publish(self, plan: Plan[Any]) -> None:
        unmoved = [lease(u.ref, u.old) for u in plan.commit if u.old]
        if not plan.prepare:
            self.store.update_refs([*plan.commit, *plan.leases], plan.subject)
            return
        self.store.update_refs([*plan.prepare, *unmoved, *plan.leases], plan.subject)
        # refs the prepare step created must still be ours; a branch it moved may have moved on
        # since (a promotion on top of a rename's new stage entry keeps that entry)
        ours = [lease(u.ref, u.new) for u in plan.prepare if u.new and u.old is None]
        try:
            self.store.update_refs([*plan.commit, *plan.leases, *ours], plan.subject)
        except GitregError as exc:
            if self.store.wrote_nothing(exc):  # the commit point did not happen: its prepared refs go
                self._abandon(plan.prepare)
            raise

    def _abandon(self, prepared: list[RefUpdate]) -> None:
        """Undo this writer's prepare step where its refs are still its own: delete what it created,
        move back what it moved. Nothing read them (the commit point never named them); a ref
        someone moved on since is left as it is, and what our commit added there stays unread."""
        undo = [RefUpdate(u.ref, u.old, u.new) for u in prepared if u.new]
        if not undo:
            return
        try:
            self.store.update_refs(undo, "gitreg: abandon")
        except GitregError:
            # one of them moved on (or the remote is unreachable): undo the others one by one
            for u in undo:
                try:
                    self.store.update_refs([u], "gitreg: abandon")
                except GitregError:
                    pass

    def _landed(self, plan: Plan[Any]) -> None:
        if self.store.stale:
            self.warnings.append(f"{plan.done or repr(plan.subject) + ' is done'}; {self.store.stale}")
            self.store.stale = None
        if any(u.ref == MAIN for u in plan.commit):
            reason = worktree.sync(self.store)
            if reason:
                self.warnings.append(f"{plan.done or repr(plan.subject) + ' is committed'}, but {reason}")
        if plan.then is not None:
            self._tidy(plan.then, plan.subject)

    def _tidy(self, then: Callable[[], Plan[Any] | None], subject: str) -> None:
        """Run the tidy-up after a commit point. The write happened: a failure here is a warning."""

        def planner() -> Plan[Any]:
            follow = then()
            return follow if follow is not None else Plan(None, subject, [])

        try:
            self.write(planner, what=f"the tidy-up of {subject!r}")
        except GitregError as exc:
            self.warnings.append(
                f"{subject!r} is done, but tidying up after it failed ({exc}); readers ignore what is left, "
                "and 'gitreg check' lists it."
            )

    def check_main(self) -> None:
        """Refuse to write on a ``main`` that lost commits gitreg made (a work tree reset or rebased).

        Writing there would number new versions as versions that exist, so
        one version number would name two contents."""
        if self.store.work_tree is None:
            return
        problems = worktree.operations_in_progress(self.store)
        on = worktree.checked_out(self.store)
        if on is not None and stage_of(on) is not None:
            problems.append(
                f"the work tree {self.store.work_tree} is checked out on {short_ref(on)}: a commit made there "
                "from this checkout would undo promotions; check out main ('git switch main')."
            )
        for problem in problems:
            if problem not in self.warnings:
                self.warnings.append(problem)
        mark, head = worktree.last_synced(self.store), self.store.ref(MAIN)
        if not mark or not head or mark == head or self.store.read(mark + "^{commit}") is None:
            return
        if not self.store.is_ancestor(mark, head):
            raise IntegrityError(
                f"{short_ref(MAIN)} no longer contains commit {mark[:12]}, the last one gitreg wrote or checked "
                f"out in {self.store.work_tree}: a reset, a rebase or a commit from a stale checkout dropped "
                f"registry history, and writing now would reuse version numbers. Bring it back with "
                f"'git merge {mark[:12]}' on {short_ref(MAIN)} (a fast-forward if nothing was committed since), "
                "then run 'gitreg check' and try again."
            )
