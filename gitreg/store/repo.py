"""A git repository as an object store with compare-and-swap ref updates.

This module knows git and nothing about models. Reads go through one
long-lived ``git cat-file --batch`` process per repository (a lookup costs a
pipe round trip, not a process start); objects are written in-process
(:mod:`gitreg.store.objects`); refs move only through ``git update-ref
--stdin`` transactions that name the value each ref must still have.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitreg.errors import ConflictError, GitError, NotFoundError
from gitreg.store import locks
from gitreg.store import process as _process
from gitreg.store.objects import (
    MODE_GITLINK,
    MODE_TREE,
    LooseObjectWriter,
    TreeEntry,
    encode_commit,
    encode_tag,
    encode_tree,
    object_id,
    parse_tree,
    write_pack,
)
from gitreg.store.process import GitFailed
from gitreg.store.process import git_env as git_env  # re-exported for the store's other modules
from gitreg.store.process import storage_error_in as storage_error_in

if TYPE_CHECKING:
    import subprocess

ZERO_OID = "0" * 40
_STREAM_CHUNK = 1 << 20
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class RefConflict(ConflictError):
    """A ref did not hold the value the transaction expected: someone wrote first."""


class RefLocked(ConflictError):
    """A ref's lock file has been held too long to be a live writer's: retrying
    will not help. The message names the file and the command that clears it."""


@dataclass(frozen=True)
class RefUpdate:
    """Set ``ref`` to ``new`` (None deletes) provided it still holds ``old``
    (None means it must not exist yet). ``new == old`` only verifies: the
    transaction fails unless the ref holds that value, and writes nothing."""

    ref: str
    new: str | None
    old: str | None


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    def stamp(self, when: float | None = None) -> str:
        seconds = int(time.time() if when is None else when)
        offset = -time.altzone if time.localtime(seconds).tm_isdst > 0 else -time.timezone
        sign = "+" if offset >= 0 else "-"
        offset = abs(offset)
        return f"{self.name} <{self.email}> {seconds} {sign}{offset // 3600:02d}{offset % 3600 // 60:02d}"

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


# Who writes in the current thread or task when a caller says so (a web UI
# writing for the person behind its authenticating proxy); see writing_as.
_WRITER: ContextVar[Identity | None] = ContextVar("gitreg_writer", default=None)


@contextmanager
def writing_as(identity: Identity | None) -> Iterator[None]:
    """Inside the block, commits and tags written in this thread (or task) are
    authored by ``identity`` instead of git's configured one; None changes
    nothing. Other threads writing at the same time are unaffected."""
    token = _WRITER.set(identity)
    try:
        yield
    finally:
        _WRITER.reset(token)


@dataclass(frozen=True)
class RefInfo:
    ref: str
    oid: str
    peeled: str  # the commit a tag points at; equals oid for branches
    date: int  # tagger/committer time, seconds
    who: str
    subject: str


@dataclass(frozen=True)
class LogEntry:
    commit: str
    parents: tuple[str, ...]
    author: str
    author_time: int
    committer: str
    subject: str
    body: str


class _Batch:
    """One ``git cat-file --batch`` process, restarted if it dies."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.pid = 0

    def _start(self) -> subprocess.Popen[bytes]:
        if self.proc is None or self.proc.poll() is not None or self.pid != os.getpid():
            self.proc = _process.start(
                [f"--git-dir={self.git_dir}", "cat-file", "--batch"], stdin=True, stderr="inherit"
            )
            self.pid = os.getpid()
        return self.proc

    def _ask(self, spec: str) -> subprocess.Popen[bytes]:
        """Send one question to ``cat-file --batch`` (under :attr:`lock`); the answer is the caller's to read."""
        proc = self._start()
        assert proc.stdin
        try:
            proc.stdin.write(spec.encode() + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:
            # git's pipe, not our stdout's: the CLI treats a bare BrokenPipeError as a closed stdout
            self.proc = None
            raise GitError("git cat-file stopped unexpectedly") from None
        return proc

    def read(self, spec: str) -> tuple[str, str, bytes] | None:
        if "\n" in spec:
            return None
        with self.lock:
            return self._answer(self._ask(spec))

    def read_many(self, specs: Sequence[str]) -> list[tuple[str, str, bytes] | None]:
        """Many lookups in one pipelined exchange: the questions are written by
        a thread while the answers are read, so n lookups cost one round trip
        instead of n (and neither pipe can fill up and block the other)."""
        asked = [s for s in specs if "\n" not in s]
        with self.lock:
            proc = self._start()
            stdin = proc.stdin
            assert stdin is not None
            payload = b"".join(s.encode() + b"\n" for s in asked)

            def ask() -> None:
                try:
                    stdin.write(payload)
                    stdin.flush()
                except OSError:
                    pass  # git died; _answer reports it

            writer = threading.Thread(target=ask, daemon=True)
            writer.start()
            try:
                answers = iter([self._answer(proc) for _ in asked])
            finally:
                writer.join()
        return [None if "\n" in s else next(answers) for s in specs]

    def stream(self, spec: str, sink: Callable[[bytes], object]) -> tuple[str, str, int] | None:
        """``(oid, type, size)`` of ``spec``, its content handed to ``sink`` in
        chunks of at most 1 MiB as it comes through the pipe (git streams a
        blob from its pack or loose file too), so no object is ever whole in
        memory; None if it does not exist."""
        if "\n" in spec:
            return None
        with self.lock:
            proc = self._ask(spec)
            assert proc.stdout
            header = proc.stdout.readline()
            if not header:
                self.proc = None
                raise GitError("git cat-file stopped unexpectedly")
            parts = header.split()
            if len(parts) != 3:
                return None
            remaining = int(parts[2])
            while remaining:
                chunk = proc.stdout.read(min(_STREAM_CHUNK, remaining))
                if not chunk:
                    self.proc = None
                    raise GitError("git cat-file stopped unexpectedly")
                sink(chunk)
                remaining -= len(chunk)
            proc.stdout.read(1)
            return parts[0].decode(), parts[1].decode(), int(parts[2])

    def _answer(self, proc: subprocess.Popen[bytes]) -> tuple[str, str, bytes] | None:
        assert proc.stdout is not None
        header = proc.stdout.readline()
        if not header:
            self.proc = None
            raise GitError("git cat-file stopped unexpectedly")
        parts = header.split()
        if len(parts) != 3:
            return None  # "<spec> missing" or "ambiguous"
        oid, kind, size = parts[0].decode(), parts[1].decode(), int(parts[2])
        data = proc.stdout.read(size)
        proc.stdout.read(1)
        return oid, kind, data

    def close(self) -> None:
        if self.proc and self.proc.poll() is None and self.pid == os.getpid():
            self.proc.stdin.close()  # type: ignore[union-attr]
            self.proc.wait()
        self.proc = None


class GitStore:
    """A git repository (bare or with a work tree) seen as objects and refs."""

    def __init__(self, git_dir: Path, work_tree: Path | None = None) -> None:
        self.git_dir = git_dir
        self.work_tree = work_tree
        self._batch = _Batch(git_dir)
        self._writer = LooseObjectWriter(git_dir / "objects")
        self._identity: Identity | None = None
        #: Sign commits / tags: True/False, or None to follow git's ``commit.gpgsign`` / ``tag.gpgsign``.
        self.sign_commits: bool | None = None
        self.sign_tags: bool | None = None
        self._gpgsign: dict[str, bool] = {}
        self._pending: dict[str, tuple[str, bytes]] | None = None
        self._prefetched: dict[str, tuple[str, str, bytes] | None] | None = None

    def __repr__(self) -> str:
        return f"GitStore({str(self.work_tree or self.git_dir)!r})"

    # -- opening -------------------------------------------------------------

    @staticmethod
    def find_git_dir(path: Path) -> tuple[Path, Path | None] | None:
        """``(git_dir, work_tree)`` if ``path`` itself is a repository."""
        dot = path / ".git"
        if dot.is_dir() and (dot / "HEAD").is_file():
            return dot, path
        if dot.is_file():  # a linked work tree or submodule: "gitdir: <path>"
            text = dot.read_text(errors="replace").strip()
            if text.startswith("gitdir:"):
                target = (path / text[len("gitdir:") :].strip()).resolve()
                if (target / "HEAD").is_file():
                    return target, path
        if (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir():
            return path, None
        return None

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> GitStore:
        p = Path(path).expanduser().absolute()
        found = cls.find_git_dir(p)
        if found is None:
            raise NotFoundError(f"{p} is not a git repository.")
        return cls(*found)

    @classmethod
    def discover(cls, start: Path) -> GitStore | None:
        """The repository containing ``start``, found the way git finds ``.git``."""
        here = start.absolute()
        for candidate in (here, *here.parents):
            found = cls.find_git_dir(candidate)
            if found is not None:
                return cls(*found)
        return None

    @classmethod
    def init(cls, path: Path, *, bare: bool, initial_branch: str = "main") -> GitStore:
        args = ["init", "--quiet", f"--initial-branch={initial_branch}"]
        if bare:
            args.append("--bare")
        _process.run([*args, "--", str(path)])
        return cls.open(path)

    def close(self) -> None:
        self._batch.close()

    # -- running git ---------------------------------------------------------

    def git(self, *args: str, input: bytes | None = None, config: Sequence[str] = ()) -> bytes:
        """Run git against this repository. Callers pass option-looking user
        input only after ``--`` or as ``--opt=value``."""
        pre = [f"--git-dir={self.git_dir}"]
        if self.work_tree is not None:
            pre.append(f"--work-tree={self.work_tree}")
        for c in config:
            pre += ["-c", c]
        return _process.run([*pre, *args], cwd=self.work_tree or self.git_dir, input=input)

    # -- reading -------------------------------------------------------------

    def read(self, spec: str) -> tuple[str, str, bytes] | None:
        """``(oid, type, content)`` of an object named by a rev spec such as
        ``refs/heads/main:models``, or None if it does not exist."""
        if self._pending:
            got = self._read_pending(spec)
            if got is not None:
                return got
        if self._prefetched is not None and spec in self._prefetched:
            return self._prefetched[spec]
        return self._batch.read(spec)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Inside the block, answers fetched with :meth:`prefetch` are reused
        by :meth:`read`: for reading many objects at once, as of one moment."""
        self._prefetched = {}
        try:
            yield
        finally:
            self._prefetched = None

    def prefetch_entries(self, tree_spec: str, names: Sequence[str]) -> None:
        """Within a snapshot, make ``read(f"{tree_spec}/{name}")`` answer from
        memory for each name: the tree is read once and its entries fetched by
        id. git resolves a ``rev:path`` through a tree of thousands of entries
        in ~0.5 ms, an object id in ~15 µs."""
        if self._prefetched is None:
            return
        tree = self.read(tree_spec)
        entries = parse_tree(tree[2]) if tree and tree[1] == "tree" else {}
        found = [n for n in dict.fromkeys(names) if n in entries]
        got = self._batch.read_many([entries[n].oid for n in found])
        self._prefetched.update({f"{tree_spec}/{n}": None for n in names})
        self._prefetched.update({f"{tree_spec}/{n}": g for n, g in zip(found, got, strict=True)})

    def prefetch(self, specs: Sequence[str]) -> list[tuple[str, str, bytes] | None]:
        """Look ``specs`` up in one pipelined exchange (see :meth:`snapshot`)."""
        todo = [s for s in dict.fromkeys(specs) if self._prefetched is None or s not in self._prefetched]
        got = dict(zip(todo, self._batch.read_many(todo), strict=True))
        if self._prefetched is not None:
            self._prefetched.update(got)
        return [got[s] if s in got else self.read(s) for s in specs]

    def _read_pending(self, spec: str) -> tuple[str, str, bytes] | None:
        """Resolve ``<oid>[:<path>]`` when ``oid`` is an object not yet packed."""
        assert self._pending is not None
        rev, sep, path = spec.partition(":")
        if rev not in self._pending:
            return None
        oid = rev
        kind, data = self._pending[rev]
        if sep and kind == "commit":
            oid = data[5:45].decode()
        for part in path.split("/") if path else ():
            got = self._pending.get(oid) or self._batch.read(oid)
            entry = parse_tree(got[-1]).get(part) if got and got[-2] == "tree" else None
            if entry is None:
                return None
            oid = entry.oid
        got = self._pending.get(oid) or self._batch.read(oid)
        if got is None:
            return None
        return oid, got[-2], got[-1]

    def stream_blob(self, spec: str, sink: Callable[[bytes], object]) -> tuple[str, int] | None:
        """``(oid, size)`` of the blob ``spec`` names, its content handed to
        ``sink`` in chunks (see :meth:`_Batch.stream`); None if there is no such
        blob (whatever ``sink`` was given then is not a blob's content). For
        copying artifacts of any size without holding one in memory."""
        held = self._pending and self._read_pending(spec)
        if not held and self._prefetched is not None and spec in self._prefetched:
            held = self._prefetched[spec]
        if held:
            if held[1] != "blob":
                return None
            sink(held[2])
            return held[0], len(held[2])
        got = self._batch.stream(spec, sink)  # not a blob: what the sink got is to be discarded
        if got is None or got[1] != "blob":
            return None
        return got[0], got[2]

    def read_blob(self, spec: str) -> bytes | None:
        got = self.read(spec)
        return got[2] if got and got[1] == "blob" else None

    def read_tree(self, spec: str) -> dict[str, TreeEntry] | None:
        got = self.read(spec)
        return parse_tree(got[2]) if got and got[1] == "tree" else None

    # -- objects that may be elsewhere (a partial clone) ---------------------

    def blob_ids(self, specs: Sequence[str]) -> list[str]:
        """The ids of the blobs named by ``rev:path`` specs, found by reading
        only trees (so in a partial clone no blob is fetched); specs that name
        no blob are left out."""
        parents = []
        for spec in specs:
            rev, _, path = spec.rpartition(":")
            head, _, name = path.rpartition("/")
            parents.append((f"{rev}:{head}", name))
        trees = self.prefetch([p for p, _ in parents]) if parents else []
        found = []
        for (_, name), tree in zip(parents, trees, strict=True):
            entry = parse_tree(tree[2]).get(name) if tree and tree[1] == "tree" else None
            if entry is not None and not entry.is_tree and entry.mode != MODE_GITLINK:
                found.append(entry.oid)
        return found

    def tree_blobs(self, tree: str) -> list[str]:
        """The ids of every blob under ``tree``, read from its trees alone."""
        blobs: list[str] = []
        todo = [tree]
        while todo:
            level = self._batch.read_many(todo)
            todo = []
            for got in level:
                for entry in parse_tree(got[2]).values() if got and got[1] == "tree" else ():
                    if entry.is_tree:
                        todo.append(entry.oid)
                    elif entry.mode != MODE_GITLINK:
                        blobs.append(entry.oid)
        return list(dict.fromkeys(blobs))

    def ensure_local(self, oids: Sequence[str]) -> None:
        """Make the objects ``oids`` readable without a round trip each. Every
        object of an ordinary repository is local already; a partial clone's
        mirror (:class:`gitreg.store.remote.MirrorStore`) fetches the missing
        ones in one batch."""

    def tree_oid(self, spec: str) -> str | None:
        got = self.read(spec)
        return got[0] if got and got[1] == "tree" else None

    def ref(self, name: str) -> str | None:
        """The value of a full ref name (a tag ref yields the tag object)."""
        got = self.read(name)
        return got[0] if got else None

    def commit_tree(self, commit: str) -> str:
        got = self.read(commit)
        if not got or got[1] != "commit":
            raise GitError(f"{commit} is not a commit")
        return got[2][5:45].decode()

    def is_ancestor(self, rev: str, of: str) -> bool:
        """Whether commit ``rev`` is reachable from ``of`` (so ``of`` fast-forwards from ``rev``).
        False when either does not exist; :class:`GitError` when git cannot tell
        (a broken history), rather than a "no" that would be taken for an answer."""
        a, b = self.read(rev), self.read(of)
        if a is None or b is None:
            return False
        try:
            self.git("merge-base", "--is-ancestor", a[0], b[0])
        except GitFailed as exc:
            if exc.returncode == 1:
                return False
            raise
        return True

    def ref_oids(self, prefix: str) -> dict[str, str]:
        """Refs under ``prefix`` and the object each points at, in one call
        that reads no object: listing 10,000 version tags takes milliseconds,
        where :meth:`list_refs` parses each tag object for its details."""
        out = self.git("for-each-ref", "--format=%(refname)%00%(objectname)", "--", prefix)
        return dict(line.split("\0", 1) for line in out.decode(errors="replace").splitlines())

    def list_refs(self, *patterns: str) -> list[RefInfo]:
        """Refs under each of ``patterns`` (a prefix such as ``refs/tags/Name/``,
        or a full ref name) with their target, creator, date and subject,
        read in one call."""
        fmt = "%(refname)%00%(objectname)%00%(*objectname)%00%(creatordate:unix)%00%(creator)%00%(subject)"
        out = self.git("for-each-ref", f"--format={fmt}", "--", *patterns)
        refs = []
        for line in out.decode(errors="replace").splitlines():
            ref, oid, peeled, date, who, subject = line.split("\0", 5)
            who = re.sub(r" \d+ [+-]\d{4}$", "", who)
            refs.append(RefInfo(ref, oid, peeled or oid, int(date or 0), who, subject))
        return refs

    def log(
        self, rev: str, paths: Sequence[str] = (), max_count: int | None = None, *, first_parent: bool = False
    ) -> list[LogEntry]:
        """Commits reachable from ``rev`` touching ``paths``, newest first.
        ``first_parent`` follows only first parents, so a merged pull request
        shows as its merge commit rather than as the commits it brought in."""
        fmt = "%H%x00%P%x00%an <%ae>%x00%at%x00%cn <%ce>%x00%s%x00%b%x1e"
        args = ["log", f"--format={fmt}"]
        if max_count:
            args.append(f"--max-count={max_count}")
        if first_parent:
            args.append("--first-parent")
        out = self.git(*args, rev, "--", *paths).decode(errors="replace")
        entries = []
        for rec in out.split("\x1e"):
            rec = rec.strip("\n")
            if not rec:
                continue
            c, p, a, at, cm, s, b = rec.split("\0", 6)
            entries.append(LogEntry(c, tuple(p.split()), a, int(at), cm, s, b.strip()))
        return entries

    def identity(self) -> Identity:
        """Who writes: the identity of an enclosing :func:`writing_as`, else
        git's configured identity, else the login user."""
        chosen = _WRITER.get()
        if chosen is not None:
            return chosen
        if self._identity is None:
            try:
                raw = self.git("var", "GIT_COMMITTER_IDENT").decode().strip()
                m = re.match(r"(.*) <(.*)> \d+ [+-]\d{4}$", raw)
                if not m:
                    raise GitError(raw)
                self._identity = Identity(m.group(1), m.group(2))
            except GitError:
                import getpass
                import socket

                user = getpass.getuser()
                self._identity = Identity(user, f"{user}@{socket.gethostname()}")
        return self._identity

    # -- writing objects -----------------------------------------------------

    @contextmanager
    def packing(self) -> Iterator[None]:
        """Inside the block, written objects stay in memory (and readable by
        :meth:`read`); when it ends without error they land as ONE pack file.
        Thousands of objects then cost one file pair instead of a file each.
        Refs may point at them only after the block."""
        self._pending = {}
        try:
            yield
            write_pack(self.git_dir / "objects" / "pack", self._pending)
        finally:
            self._pending = None

    def _write(self, kind: str, data: bytes) -> str:
        if self._pending is not None:
            oid = object_id(kind, data)
            self._pending[oid] = (kind, data)
            return oid
        return self._writer.write(kind, data)

    def write_blob(self, data: bytes) -> str:
        return self._write("blob", data)

    def write_file(self, path: Path) -> tuple[str, str, int]:
        """Store a file; return (blob oid, sha256, size)."""
        return self._writer.write_file(path)

    def write_lfs_file(self, path: Path) -> tuple[str, str, int]:
        """Store a file as a Git LFS object plus pointer blob; return (pointer
        blob oid, sha256, size). See :mod:`gitreg.store.lfs`."""
        from gitreg.store import lfs

        return lfs.store_file(self, path)

    def write_tree(self, entries: Iterable[TreeEntry]) -> str:
        return self._write("tree", encode_tree(entries))

    def write_commit(self, tree: str, parents: Sequence[str], message: str, when: float | None = None) -> str:
        """A commit object. Unsigned commits are written in-process; when
        signing is asked for (``sign_commits``, else git's ``commit.gpgsign``)
        git writes it with ``commit-tree -S`` so GPG and SSH keys, agents and
        ``gpg.format`` work exactly as they do for ``git commit``."""
        if self._signing("commit"):
            args = ["commit-tree", "-S"]
            for p in parents:
                args += ["-p", p]
            try:
                return self.git(*args, tree, input=_message_bytes(message)).decode().strip()
            except GitError as exc:
                raise GitError(
                    f"Could not sign the commit ({exc}). Configure a signing key (git config user.signingkey, and "
                    "gpg.format ssh for SSH keys), or do not ask for signing (--sign, commit.gpgsign)."
                ) from None
        stamp = self.identity().stamp(when)
        return self._write("commit", encode_commit(tree, parents, stamp, stamp, message))

    def _signing(self, kind: str) -> bool:
        asked = self.sign_commits if kind == "commit" else self.sign_tags
        if asked is not None:
            return asked
        if kind not in self._gpgsign:  # read once per store: the unsigned path stays process-free
            try:
                value = self.git("config", "--type=bool", "--get", f"{kind}.gpgsign").decode().strip()
            except GitError:
                value = "false"  # unset
            self._gpgsign[kind] = value == "true"
        return self._gpgsign[kind]

    def write_tag(self, target: str, name: str, message: str, when: float | None = None) -> str:
        """An annotated tag object (no ref). Signed, like commits, when
        ``sign_tags`` (else git's ``tag.gpgsign``) asks."""
        if self._signing("tag"):
            return self._signed_tag(target, name, message)
        stamp = self.identity().stamp(when)
        return self._write("tag", encode_tag(target, "commit", name, stamp, message))

    def _signed_tag(self, target: str, name: str, message: str) -> str:
        """Let ``git tag -s`` write the signed tag object into this store while
        its ref lands in a scratch repository: the real ref must move only in
        the caller's compare-and-swap transaction. The scratch repository
        includes this one's config, so signing keys and formats are the user's."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="gitreg-sign-") as scratch:
            _process.run(["init", "--quiet", "--bare", "--", scratch])
            _process.run([f"--git-dir={scratch}", "config", "include.path", str(self.git_dir / "config")])
            try:
                _process.run(
                    [f"--git-dir={scratch}", "tag", "-s", "-F", "-", "--", name, target],
                    input=_message_bytes(message),
                    env_extra={"GIT_OBJECT_DIRECTORY": str(self.git_dir / "objects")},
                )
            except GitFailed as exc:
                raise GitError(
                    f"Could not sign tag {name} ({exc.stderr}). Configure a "
                    "signing key (git config user.signingkey, and gpg.format ssh for SSH keys), or do not ask for "
                    "signing (--sign, tag.gpgsign)."
                ) from None
            tag = f"refs/tags/{name}"
            return _process.run([f"--git-dir={scratch}", "rev-parse", "--verify", tag]).decode().strip()

    def edit_tree(self, root: str | None, changes: dict[str, tuple[str, str] | None]) -> str:
        """A new tree: ``root`` with each ``path -> (mode, oid)`` set, or removed
        when None. Paths are ``/``-separated; missing directories are created,
        emptied ones dropped. Only the trees on the edited paths are rewritten.
        """
        entries = dict(self.read_tree(root) or {}) if root else {}
        groups: dict[str, dict[str, tuple[str, str] | None]] = {}
        for path, value in changes.items():
            head, _, rest = path.partition("/")
            if rest:
                groups.setdefault(head, {})[rest] = value
            elif value is None:
                entries.pop(head, None)
            else:
                entries[head] = TreeEntry(value[0], head, value[1])
        for head, sub in groups.items():
            old = entries.get(head)
            sub_oid = self.edit_tree(old.oid if old and old.is_tree else None, sub)
            if sub_oid == EMPTY_TREE:
                entries.pop(head, None)
            else:
                entries[head] = TreeEntry(MODE_TREE, head, sub_oid)
        return self.write_tree(entries.values())

    # -- moving refs ---------------------------------------------------------

    def clear_stale_locks(self, ref_dir: str) -> int:
        """Remove provably stale lock files directly under ``ref_dir`` (e.g.
        ``refs/tags/Name``): a writer killed while verifying a ref leaves a
        lock on a ref nobody may write again. Returns how many were removed."""
        directory = self.git_dir / ref_dir
        if not directory.is_dir():
            return 0
        found = [p for p in directory.iterdir() if p.name.endswith(".lock")]
        return sum(1 for p in found if locks.clear_if_stale(p, self.git_dir, self.work_tree).gone)

    stale: str | None = None  # why this store lags a write that happened elsewhere (see MirrorStore)

    def wrote_nothing(self, exc: BaseException) -> bool:
        """Whether ``exc``, raised by :meth:`update_refs`, proves the transaction changed nothing.
        A local ``update-ref --stdin`` is all-or-nothing, so any failure does."""
        return True

    def update_refs(self, updates: Sequence[RefUpdate], message: str = "gitreg") -> None:
        """Apply all updates atomically, or none; :class:`RefConflict` if any
        ref no longer holds its expected value (or a live writer holds its
        lock), :class:`RefLocked` if a lock outlived its writer and is not
        provably stale (see :mod:`gitreg.store.locks`; provably stale locks
        are removed and the transaction tried once more)."""
        lines = []
        for u in updates:
            old = u.old or ZERO_OID
            if u.new is None:
                lines.append(f"delete {u.ref} {old}")
            elif u.new == u.old:
                lines.append(f"verify {u.ref} {old}")
            else:
                lines.append(f"update {u.ref} {u.new} {old}")
        payload = ("\n".join(lines) + "\n").encode()
        for attempt in range(2):
            try:
                self.git(
                    "update-ref", "-m", message, "--stdin", input=payload, config=["core.filesRefLockTimeout=1000"]
                )
                return
            except GitError as exc:
                text = str(exc)
                held = locks.locks_named_in(text)
                if held:
                    states = [locks.clear_if_stale(lock, self.git_dir, self.work_tree) for lock in held]
                    if attempt == 0 and all(s.gone for s in states):
                        continue  # the holder finished or a stale lock was removed
                    stuck = [s for s in states if not s.gone and s.age >= locks.stale_after()]
                    if stuck:
                        raise RefLocked(f"Cannot move refs: {' '.join(s.describe() for s in stuck)}") from None
                    raise RefConflict(text) from None
                if "but expected" in text or "already exists" in text or "unable to resolve" in text:
                    raise RefConflict(text) from None
                raise
        raise RefConflict("a ref lock was taken again while retrying")


def _message_bytes(message: str) -> bytes:
    return (message if message.endswith("\n") else message + "\n").encode()
