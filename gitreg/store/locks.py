"""Lock files a killed git process leaves behind, and when it is safe to remove one.

git guards each ref, ``packed-refs`` and the index with a ``<file>.lock``
created with O_EXCL and renamed into place on success. A process killed in
between (SIGKILL, power loss) leaves the lock, and every later write fails
with "File exists" until someone removes it.

gitreg removes such a lock only when it is *provably stale*:

1. it is older than :func:`stale_after` seconds (``GITREG_STALE_LOCK_SECONDS``,
   default 10): ref and index transactions hold their lock for milliseconds,
   and git itself already waited ``core.filesRefLockTimeout`` for it; and
2. no process on this machine could own it: no ``git`` process (other than
   the read-only ``cat-file`` readers gitreg keeps open) runs with this
   repository as its working directory or ``--git-dir``, and no process has
   the lock file open. This is read from ``/proc``; where there is no
   ``/proc`` nothing is ever removed automatically.

Removal is serialised among gitreg processes with an ``flock`` and is done
by renaming the exact file judged stale (same inode) aside, so a fresh lock a
live git created meanwhile is put back, not deleted. Anything that is not
provably stale is reported with the exact command that clears it.

A process on *another* machine sharing the repository over a network file
system is invisible to (2); condition (1) is what protects it, so raise
``GITREG_STALE_LOCK_SECONDS`` on such setups.
"""

from __future__ import annotations

import fcntl
import os
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

_LOCK_RE = re.compile(r"Unable to create '([^']+\.lock)': File exists")
DEFAULT_STALE_AFTER = 10.0


def stale_after() -> float:
    try:
        return max(0.0, float(os.environ.get("GITREG_STALE_LOCK_SECONDS", DEFAULT_STALE_AFTER)))
    except ValueError:
        return DEFAULT_STALE_AFTER


def locks_named_in(git_stderr: str) -> list[Path]:
    """The lock files git said it could not create."""
    return [Path(p) for p in _LOCK_RE.findall(git_stderr)]


@dataclass(frozen=True)
class LockState:
    path: Path
    age: float  # seconds since the lock was last written; -1 if it is gone
    holders: tuple[int, ...]  # pids that may own it; empty when none could
    can_see_processes: bool

    @property
    def gone(self) -> bool:
        return self.age < 0

    @property
    def stale(self) -> bool:
        return not self.gone and self.can_see_processes and not self.holders and self.age >= stale_after()

    def clear_command(self) -> str:
        return f"rm -f {shlex.quote(str(self.path))}"

    def describe(self) -> str:
        """One sentence for an error message: what holds the lock and how to clear it."""
        if self.gone:
            return f"{self.path} was held by another process and is free now; try again."
        who = f"git process {', '.join(map(str, self.holders))} may be using it" if self.holders else "no git process"
        if not self.can_see_processes:
            who = "gitreg cannot tell which processes are running here"
        return (
            f"{self.path} exists (created {self.age:.0f} s ago; {who}). If no git or gitreg command is running "
            f"on this repository, a crashed one left it behind: remove it with '{self.clear_command()}' and try again."
        )


def inspect(lock: Path, git_dir: Path, work_tree: Path | None) -> LockState:
    try:
        st = lock.stat()
    except FileNotFoundError:
        return LockState(lock, -1.0, (), True)
    age = max(0.0, time.time() - st.st_mtime)
    if not Path("/proc/self/cmdline").exists():
        return LockState(lock, age, (), False)
    return LockState(lock, age, tuple(_possible_holders(lock, git_dir, work_tree)), True)


def clear_if_stale(lock: Path, git_dir: Path, work_tree: Path | None) -> LockState:
    """Remove ``lock`` if it is provably stale; return what was found (``gone``
    after a removal)."""
    state = inspect(lock, git_dir, work_tree)
    if not state.stale:
        return state
    with open(git_dir / "gitreg-unlock.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        state = inspect(lock, git_dir, work_tree)
        if not state.stale:
            return state
        judged = lock.stat()
        aside = lock.with_name(f"{lock.name}.stale-{os.getpid()}")
        try:
            os.rename(lock, aside)
        except FileNotFoundError:
            return LockState(lock, -1.0, (), True)
        moved = aside.stat()
        if (moved.st_ino, moved.st_mtime_ns) != (judged.st_ino, judged.st_mtime_ns):
            # a live git replaced the stale lock between our checks: give it back
            try:
                os.link(aside, lock)
            except FileExistsError:
                pass
            aside.unlink(missing_ok=True)
            return inspect(lock, git_dir, work_tree)
        aside.unlink(missing_ok=True)
    return LockState(lock, -1.0, (), True)


def _possible_holders(lock: Path, git_dir: Path, work_tree: Path | None) -> list[int]:
    """Pids of processes that could own ``lock``: git processes working in this
    repository (except ``cat-file`` readers) and anything holding the file open."""
    roots = [str(git_dir.resolve())] + ([str(work_tree.resolve())] if work_tree else [])
    lock_s = str(lock)
    me = os.getpid()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        pid = int(entry.name)
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if argv and os.path.basename(argv[0]).startswith(b"git") and b"cat-file" not in argv:
                cwd = os.readlink(f"/proc/{pid}/cwd")
                args = b" ".join(argv).decode(errors="replace")
                if any(cwd == r or cwd.startswith(r + "/") or r in args for r in roots):
                    found.append(pid)
                    continue
            for fd in os.scandir(f"/proc/{pid}/fd"):
                if os.readlink(fd.path) == lock_s:
                    found.append(pid)
                    break
        except OSError:  # the process ended or is not ours to look at
            continue
    return found
