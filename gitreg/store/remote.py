"""Git remotes: a local mirror of a registry URL, and pushes that are
themselves compare-and-swap transactions.

A remote registry is kept as a bare mirror under the cache directory. Its refs
are the remote's refs as last fetched (``fetch`` forces and prunes, so the
remote is the truth). :class:`MirrorStore` extends the store's ref transaction
to the remote: refs move in the mirror under the usual compare-and-swap, then
one ``git push --atomic`` sends them with ``--force-with-lease=<ref>:<old>``
for every ref, so the remote accepts the whole write only if nobody else wrote
first. A rejected push leaves the remote untouched, :class:`RefConflict` tells
the caller to re-plan, and the refs it named are fetched, alone, before it
does (:meth:`MirrorStore.fetch_contended`).

A mirror is a partial clone (``--filter=blob:none``): refs, commits, tags
and trees come with every fetch; blobs come when something is read. What is
read together is fetched together (:meth:`MirrorStore.ensure_local`: one
``git fetch`` of the missing ids), and what every listing reads (the
``eager`` specs a mirror is given, e.g. a registry's manifests) comes right
after the fetch that brought its refs, in one batch too, so no listing
costs a round trip per blob. A server that refuses filters gets a full fetch
and one warning naming the setting.

Transfers run git's own ``--progress`` when stderr is a terminal.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitreg.errors import GitError, GitregError, InvalidInputError
from gitreg.store import process
from gitreg.store.objects import ObjectPresence
from gitreg.store.repo import GitStore, RefConflict, RefUpdate

if TYPE_CHECKING:
    import subprocess

ORIGIN = "origin"
PARTIAL_FILTER = "blob:none"  # a mirror's filter: every commit, tag and tree; blobs on demand
# What git says when the server does not do partial fetches (and sends everything).
_FILTER_REFUSED = "filtering not recognized by server"
log = logging.getLogger("gitreg")
_warned: set[str] = set()
ANY = "*"  # RefUpdate.old for a push that replaces whatever the remote holds
# Refs a registry consists of; anything else a forge keeps (pull/*, …) is not mirrored.
BRANCH_PREFIX, TAG_PREFIX = "refs/heads/", "refs/tags/"
MIRROR_REFSPECS = (f"+{BRANCH_PREFIX}*:{BRANCH_PREFIX}*", f"+{TAG_PREFIX}*:{TAG_PREFIX}*")
_SCP_LIKE = re.compile(r"^[\w.+-]+@[\w.-]+:(?!//)")
# Why a ref is refused when someone else wrote first (a lost compare-and-swap), as
# opposed to refused for good (a hook, permissions, a checked-out branch).
_LOST_RACE = (
    "stale info",
    "fetch first",
    "non-fast-forward",
    "already exists",
    "failed to update ref",
    "cannot lock ref",
    "but expected",
    "incorrect old value",
    "atomic transaction failed",  # the remote's own ref transaction lost a race with another push
)
_UNREACHABLE = (
    "could not read from remote",
    "does not appear to be a git repository",
    "unable to access",
    "could not resolve host",
    "connection refused",
    "connection timed out",
    "not found",
    "no such file",
)


class RemoteUnreachable(GitError):
    """The remote could not be contacted (network, permissions, missing repository)."""


class PushRefused(GitError):
    """The remote answered and refused the push for good (a hook, permissions, a checked-out branch)."""


def is_url(location: str) -> bool:
    """Whether ``location`` names a git remote rather than a local path:
    ``scheme://…`` (file:// included) or scp-like ``user@host:path``."""
    return "://" in location or bool(_SCP_LIKE.match(location))


def mirror_dir(root: Path, url: str) -> Path:
    """Where the mirror of ``url`` lives under the cache ``root``."""
    return root / "remotes" / hashlib.sha256(url.encode()).hexdigest()[:24]


def _show_progress() -> bool:
    return sys.stderr.isatty() and not os.environ.get("GITREG_NO_PROGRESS")


def transfer(args: Sequence[str], *, cwd: Path | None = None, what: str, input: bytes | None = None) -> str:
    """Run a fetch/push/clone (``input`` on its stdin); stream git's progress
    to stderr when it is a terminal. Returns stdout; raises
    :class:`RemoteUnreachable` or :class:`GitError` with git's own last line."""
    progress = _show_progress()
    argv = list(args)
    if progress:
        argv = [a for a in argv if a != "--quiet"]
        argv.insert(argv.index(what) + 1, "--progress")
    proc = process.start(argv, cwd=cwd, env_extra={"GIT_TERMINAL_PROMPT": "0"}, stdin=input is not None)
    assert proc.stderr is not None and proc.stdout is not None
    feeder = _feed(proc, input) if input is not None else None
    err = bytearray()
    while chunk := proc.stderr.read1(4096):  # type: ignore[attr-defined]
        err += chunk
        if progress:
            sys.stderr.buffer.write(chunk)
            sys.stderr.flush()
    out = proc.stdout.read().decode(errors="replace")
    if feeder is not None:
        feeder.join()
    if _FILTER_REFUSED in err.decode(errors="replace"):
        _warn_unfiltered(argv)
    if proc.wait() != 0:
        text = err.decode(errors="replace")
        lines = [ln.strip() for ln in re.split(r"[\r\n]", text) if ln.strip()]
        detail = next((ln for ln in lines if ln.lower().startswith(("fatal:", "error:"))), lines[-1] if lines else "")
        lowered = (text + out).lower()
        if what == "push" and _all_accepted(out):
            return out  # the remote took every ref; what failed was recording them here (see MirrorStore)
        if what == "push" and _rejections(out):
            reasons = _rejections(out)
            if any(s in reasons.lower() for s in _LOST_RACE):
                raise RefConflict(f"git push was rejected because the remote moved: {reasons}")
            said = [ln[len("remote:") :].strip() for ln in lines if ln.startswith("remote:") and ln[7:].strip()]
            why = "\nThe remote said:\n  " + "\n  ".join(said) if said else ""  # e.g. a pre-receive hook's findings
            raise PushRefused(f"the remote refused the push: {reasons}. Nothing was written.{why}")
        if any(s in lowered for s in _UNREACHABLE):
            raise RemoteUnreachable(f"git {what} could not reach the remote: {detail.rstrip('.')}")
        raise GitError(f"git {what} failed: {detail}")
    return out


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> threading.Thread:
    """Write ``data`` to ``proc``'s stdin from a thread, so that neither pipe can fill up and block the other."""
    stdin = proc.stdin
    assert stdin is not None

    def feed() -> None:
        try:
            stdin.write(data)
            stdin.close()
        except OSError:
            pass  # git exited; its status says why

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    return feeder


def _warn_unfiltered(argv: Sequence[str]) -> None:
    """Say once per process that a server sent everything instead of what was asked."""
    key = next((a for a in argv if a.startswith("--git-dir=")), "")
    if key in _warned:
        return
    _warned.add(key)
    log.warning(
        "the remote does not allow partial fetches, so this mirror fetched every artifact of every version; "
        "on the server run 'git config uploadpack.allowFilter true' (and uploadpack.allowAnySHA1InWant true) "
        "in the registry's repository ('gitreg init --bare' sets both)."
    )


def _all_accepted(porcelain: str) -> bool:
    """Whether ``git push --porcelain`` reported every ref as taken by the remote.

    git exits non-zero when the remote accepted but a local step after it
    failed (updating this repository's own copy of the pushed refs); the
    remote's answer is what says whether the write happened."""
    flags = [line[0] for line in porcelain.splitlines() if "\t" in line and line[:1] in " +-*=!"]
    return bool(flags) and all(f != "!" for f in flags)


def _rejections(porcelain: str) -> str:
    """``ref [reason]`` for each ref ``git push --porcelain`` refused."""
    found = []
    for line in porcelain.splitlines():
        if line.startswith("!"):
            parts = line.split("\t")
            found.append(f"{parts[1].split(':')[-1]} {parts[2]}" if len(parts) >= 3 else line[1:].strip())
    return "; ".join(found)


@dataclass(frozen=True)
class PushResult:
    updated: tuple[str, ...]


def push_updates(store: GitStore, remote: str, updates: Sequence[RefUpdate]) -> PushResult:
    """Push ``updates`` to ``remote`` atomically, each guarded by a lease on
    the value the remote must still hold (``old``; None: must not exist).
    Raises :class:`RefConflict` if any lease fails; then nothing changed."""
    if not updates:
        return PushResult(())
    args = [f"--git-dir={store.git_dir}", "push", "--atomic", "--porcelain", "--no-verify"]
    specs = []
    for u in updates:
        if u.old == ANY:
            specs.append(f"+{u.new}:{u.ref}" if u.new else f"+:{u.ref}")
            continue
        args.append(f"--force-with-lease={u.ref}:{u.old or ''}")
        specs.append(f"{u.new}:{u.ref}" if u.new else f":{u.ref}")
    transfer([*args, remote, *specs], what="push")
    return PushResult(tuple(u.ref for u in updates))


def fetch(
    store: GitStore,
    remote: str = ORIGIN,
    refspecs: Sequence[str] = (),
    *,
    prune: bool = True,
    filter: str | None = None,
) -> None:
    """Fetch ``refspecs`` (default: the remote's configured ones) from ``remote``,
    leaving out what ``filter`` (e.g. ``blob:none``) excludes."""
    args = [f"--git-dir={store.git_dir}", "fetch", "--quiet", "--no-tags"]
    if prune:
        args.append("--prune")
    if filter:
        args.append(f"--filter={filter}")
    transfer([*args, remote, *refspecs], what="fetch")


def fetch_objects(store: GitStore, oids: Sequence[str], remote: str = ORIGIN) -> None:
    """Fetch the objects ``oids`` from ``remote`` in one request, as git's own
    lazy fetch does for one object: no negotiation (nothing of ours is
    offered), no refs, no tags."""
    args = [
        f"--git-dir={store.git_dir}",
        "-c",
        "fetch.negotiationAlgorithm=noop",
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--recurse-submodules=no",
        f"--filter={PARTIAL_FILTER}",
        "--stdin",
        remote,
    ]
    try:
        transfer(args, what="fetch", input="".join(f"{o}\n" for o in oids).encode())
    except RemoteUnreachable:
        raise
    except GitError as exc:
        if "not our ref" in str(exc) or "unadvertised object" in str(exc):
            raise GitError(
                f"{exc}. The server refuses to send objects by id; on the server run "
                "'git config uploadpack.allowAnySHA1InWant true' in the registry's repository."
            ) from None
        raise


def remote_url(store: GitStore, remote: str = ORIGIN) -> str | None:
    try:
        return store.git("config", "--get", f"remote.{remote}.url").decode().strip() or None
    except GitError:
        return None


#: Given a mirror and the refs a fetch created or moved (name -> id), the
#: ``rev:path`` specs of the blobs to fetch with them (see :class:`MirrorStore`).
EagerSpecs = Callable[[GitStore, Mapping[str, str]], Sequence[str]]


class MirrorStore(GitStore):
    """A bare mirror of ``url`` whose ref transactions also move the remote.

    It is a partial clone: after each fetch the blobs named by ``eager`` for
    the refs that fetch brought are fetched in one batch; any other blob is
    fetched when read (:meth:`ensure_local` fetches many in one go)."""

    def __init__(self, git_dir: Path, url: str, *, eager: EagerSpecs | None = None) -> None:
        super().__init__(git_dir)
        self.url = url
        self.eager = eager
        self.lfs_pending: set[str] = set()  # LFS objects written here, not yet pushed
        self.stale: str | None = None  # why the mirror lags a write the remote accepted
        #: The refs of pushes refused because someone wrote first, and the value each push expected
        #: the remote to hold: to fetch before planning again.
        self.contended: dict[str, str | None] = {}
        self._present = ObjectPresence(git_dir / "objects")

    def write_lfs_file(self, path: Path) -> tuple[str, str, int]:
        got = super().write_lfs_file(path)
        self.lfs_pending.add(got[1])
        return got

    @classmethod
    def open_mirror(cls, root: Path, url: str, *, eager: EagerSpecs | None = None) -> MirrorStore:
        """The mirror of ``url`` under ``root``, cloned on first use as a partial
        clone (into a temporary directory renamed into place, so a half clone
        is never seen). A mirror made by an older gitreg (a full clone) is used
        as it is."""
        if url.startswith("-") or not is_url(url):
            raise InvalidInputError(f"{url!r} is not a git URL.")
        path = mirror_dir(root, url)
        if not (path / "HEAD").is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".clone-", dir=path.parent))
            try:
                GitStore.init(tmp, bare=True)
                store = GitStore(tmp)
                store.git("config", f"remote.{ORIGIN}.url", url)
                for spec in MIRROR_REFSPECS:
                    store.git("config", "--add", f"remote.{ORIGIN}.fetch", spec)
                # a promisor remote: git may fetch what is missing from it, and gc keeps its packs
                store.git("config", f"remote.{ORIGIN}.promisor", "true")
                store.git("config", f"remote.{ORIGIN}.partialclonefilter", PARTIAL_FILTER)
                store.close()
                first = MirrorStore(tmp, url, eager=eager)
                first.fetch()
                first.close()
                os.rename(tmp, path)
            except OSError:
                shutil.rmtree(tmp, ignore_errors=True)  # another process created it first
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        return cls(path, url, eager=eager)

    def fetch(self, refs: Sequence[str] | None = None) -> None:
        """Make the mirror's refs the remote's (forced and pruned), then fetch
        in one batch the blobs ``eager`` names for the refs that moved.
        ``refs``: only those refs and the tags beside them (see
        :func:`narrow_patterns`), e.g. what a lost write needs to plan again."""
        if refs is None:
            self.contended = {}  # everything is fetched
        patterns = narrow_patterns(refs) if refs is not None else ["refs/"]
        if not patterns:
            return
        specs = [f"+{p}:{p}" for p in patterns] if refs is not None else []
        with self.refs_locked():
            before = self._ref_values(patterns) if self.eager else {}
            fetch(self, refspecs=specs, filter=PARTIAL_FILTER)
        if self.eager is None:
            return
        moved = {r: o for r, o in self._ref_values(patterns).items() if before.get(r) != o}
        if moved:
            self.ensure_local(self.blob_ids(self.eager(self, moved)))

    @contextlib.contextmanager
    def refs_locked(self) -> Iterator[None]:
        """Hold the mirror's ref lock: every fetch, and every push with the
        record of what it moved, happens under it.

        Processes share a mirror (one cache directory), and a fetch forces
        refs to what the remote *listed* when it began: unserialised, a
        fetch that listed ``main`` before another process's push landed
        would take ``main`` back behind that push once the pusher had
        recorded it, and that process would no longer see its own write
        (nor a reader a version it saw a moment ago). Under the lock each
        fetch lists after the previous ref change here finished, so a
        mirror's refs only move the way the remote's did. An ``flock``: the
        kernel releases it when its holder dies."""
        try:
            lock = open(self.git_dir / "gitreg-refs.lock", "w")  # noqa: SIM115 - held across the yield
        except OSError:  # a read-only mirror: git's own ref writes fail too, and say why
            yield
            return
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _ref_values(self, patterns: Sequence[str]) -> dict[str, str]:
        """Refs matching ``patterns`` (prefixes or globs) and what they point at, in one call."""
        out = self.git("for-each-ref", "--format=%(refname)%00%(objectname)", "--", *patterns)
        return dict(line.split("\0", 1) for line in out.decode(errors="replace").splitlines())

    def ensure_local(self, oids: Sequence[str]) -> None:
        """Fetch those of ``oids`` the mirror lacks, all in one request (git's
        lazy fetch would make one request per object)."""
        missing = [o for o in dict.fromkeys(oids) if o not in self._present]
        if missing:
            fetch_objects(self, missing)

    def wrote_nothing(self, exc: BaseException) -> bool:
        """Only a lost lease or the remote's explicit refusal prove a push changed nothing:
        a connection lost mid-push may have come after the remote moved its refs."""
        return isinstance(exc, RefConflict | PushRefused)

    def update_refs(self, updates: Sequence[RefUpdate], message: str = "gitreg") -> None:
        """Move refs on the remote (one atomic push with a lease per ref), then
        record them in the mirror. The lease is the compare-and-swap: ``old``
        is what the mirror last fetched, so a push is refused when anyone else
        wrote first; :class:`RefConflict` is then raised for the caller to
        re-plan, and the refs named are remembered for
        :meth:`fetch_contended`. Refs are recorded in the mirror only
        after the remote took them, so processes sharing a mirror never see a
        write that did not happen.

        Once the remote accepted, the write has happened: nothing after that
        raises. If the mirror cannot record it (a full disk, a hook), it is
        re-fetched; if that fails too, the mirror
        is stale until the next fetch and :attr:`stale` says why."""
        try:
            if self.lfs_pending:
                from gitreg.store import lfs

                lfs.push_objects(self, ORIGIN, sorted(self.lfs_pending))
            with self.refs_locked():
                push_updates(self, ORIGIN, updates)
                recorded = self._record(updates, message)
        except RefConflict:  # re-planned in this call: its LFS objects stay pending, written once
            self.contended = {**{u.ref: u.old for u in updates}, **self.contended}
            raise
        except BaseException as exc:
            # the write failed for good: a later one must not upload its objects (refused once, say),
            # and a write that retries it writes them again
            self.lfs_pending.clear()
            if isinstance(exc, RemoteUnreachable):
                raise RemoteUnreachable(
                    f"{exc}. Nothing was written; try again when the remote is reachable."
                ) from None
            raise
        self.lfs_pending.clear()
        if recorded is not None and not self._refetch([u.ref for u in updates]):
            self.stale = (
                f"the remote took the write, but the local mirror {self.git_dir} could not record it "
                f"({recorded}); it is refreshed on the next fetch"
            )

    def _record(self, updates: Sequence[RefUpdate], message: str) -> GitregError | OSError | None:
        """Record in the mirror what the remote just took (under the ref lock);
        the error if it could not be."""
        if self._holds(updates):
            return None  # git push recorded them itself: the mirror's fetch refspecs map each ref onto itself
        try:
            super().update_refs(updates, message)
        except (GitregError, OSError) as exc:
            # the mirror cannot be written (a full disk, a hook): take the remote's word for it
            return exc
        return None

    def fetch_contended(self) -> bool:
        """Fetch the refs a refused push named (and the tags beside them), if
        one was refused since: a write planned again needs no more than that.
        Deferred to the next plan rather than done on the refusal, so that a
        writer backing off plans on what the remote holds after its pause.
        Nothing is fetched when the mirror moved past what the refused push
        expected meanwhile (a process sharing it pushed or fetched): that view
        is as fresh as a fetch would have been a moment ago."""
        if not self.contended:
            return False
        expected, self.contended = self.contended, {}
        if all(self.ref(ref) == old for ref, old in expected.items()):
            self.fetch(list(expected))
        return True

    def _holds(self, updates: Sequence[RefUpdate]) -> bool:
        """Whether every ref of ``updates`` holds its new value in the mirror (None: is gone)."""
        return all(self.ref(u.ref) == u.new for u in updates)

    def _refetch(self, refs: Sequence[str]) -> bool:
        """Fetch ``refs`` and the tags beside them; False if that failed too
        (the next read or write fetches again)."""
        try:
            self.fetch(refs)
        except (GitError, OSError):
            return False
        return True


def narrow_patterns(refs: Iterable[str]) -> list[str]:
    """The fetch patterns that bring ``refs`` up to date, and no more than a
    write on them needs: a tag ``refs/tags/<dir>/<name>`` brings every tag in
    ``<dir>`` (so the next free name can be seen), a branch itself (as
    ``<ref>*``, a pattern that matches nothing rather than failing when the
    remote has no such branch). Refs a mirror does not keep are left out."""
    patterns: dict[str, None] = {}
    for ref in refs:
        if ref.startswith(TAG_PREFIX) and "/" in ref[len(TAG_PREFIX) :]:
            patterns[ref.rsplit("/", 1)[0] + "/*"] = None
        elif ref.startswith((BRANCH_PREFIX, TAG_PREFIX)):
            patterns[ref + "*"] = None
    return list(patterns)


def clone(url: str, path: Path, branch: str) -> GitStore:
    """``git clone --branch BRANCH URL PATH`` (progress on a terminal)."""
    transfer(["clone", "--quiet", f"--branch={branch}", "--", url, str(path)], what="clone")
    return GitStore.open(path)
