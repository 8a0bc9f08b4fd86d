"""Git's object format: encode, hash and write loose objects in-process.

Registering a version writes a handful of small objects. Writing them here
instead of spawning ``git hash-object``/``mktree``/``commit-tree`` for each
keeps a registration to one git process (the ref transaction). The format is
git's documented, stable loose-object format; ``git fsck --strict`` in the
tests holds us to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gitreg.errors import InvalidInputError, StorageError, storage_error
from gitreg.store import locks, progress

MODE_TREE = "40000"
MODE_FILE = "100644"
MODE_EXEC = "100755"
MODE_LINK = "120000"
MODE_GITLINK = "160000"  # a submodule's commit: not an object of this repository
_CHUNK = 1 << 20
_SAMPLE = 64 << 10  # bytes read at each of a big file's sample points
_WORTH_COMPRESSING = 0.9  # level 1 must save 10% on the samples, else store them
TMP_OBJ = "tmp_obj_"
TMP_PACK = ("tmp_pack_", "tmp_idx_")
_swept: set[Path] = set()  # directories this process has already cleaned


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    name: str
    oid: str

    @property
    def is_tree(self) -> bool:
        return self.mode == MODE_TREE


def _sort_key(entry: TreeEntry) -> bytes:
    # git orders a directory as if its name ended in '/'
    name = entry.name.encode()
    return name + b"/" if entry.is_tree else name


def encode_tree(entries: Iterable[TreeEntry]) -> bytes:
    out = bytearray()
    for e in sorted(entries, key=_sort_key):
        out += e.mode.encode() + b" " + e.name.encode() + b"\0" + bytes.fromhex(e.oid)
    return bytes(out)


def parse_tree(data: bytes) -> dict[str, TreeEntry]:
    entries: dict[str, TreeEntry] = {}
    i, n = 0, len(data)
    while i < n:
        sp = data.index(b" ", i)
        nul = data.index(b"\0", sp)
        mode = data[i:sp].decode()
        name = data[sp + 1 : nul].decode("utf-8", "surrogateescape")
        oid = data[nul + 1 : nul + 21].hex()
        entries[name] = TreeEntry(mode, name, oid)
        i = nul + 21
    return entries


def encode_commit(tree: str, parents: Iterable[str], author: str, committer: str, message: str) -> bytes:
    lines = [f"tree {tree}"] + [f"parent {p}" for p in parents] + [f"author {author}", f"committer {committer}"]
    return ("\n".join(lines) + "\n\n" + _message(message)).encode()


def encode_tag(target: str, target_type: str, name: str, tagger: str, message: str) -> bytes:
    head = f"object {target}\ntype {target_type}\ntag {name}\ntagger {tagger}\n\n"
    return (head + _message(message)).encode()


def _message(message: str) -> str:
    return message if message.endswith("\n") else message + "\n"


def object_id(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


class LooseObjectWriter:
    """Writes loose objects into ``objects_dir`` the way git does: compress to
    a temporary file, then rename into place. A process killed half way
    leaves only a temporary file, never a torn object.

    The temporary file is ``objects/tmp_obj_*``, where git itself streams
    large objects, rather than in the fan-out directory: what a killed
    writer leaves is then found by listing one small directory (its entries
    are the 256 fan-out directories, ``info`` and ``pack``), which each
    process does once, on its first write.
    """

    def __init__(self, objects_dir: Path) -> None:
        self.objects_dir = objects_dir

    def _path(self, oid: str) -> Path:
        return self.objects_dir / oid[:2] / oid[2:]

    def write(self, kind: str, data: bytes) -> str:
        oid = object_id(kind, data)
        path = self._path(oid)
        if not path.exists():
            level = 1 if len(data) > _CHUNK else 6
            self._commit(path, [zlib.compress(f"{kind} {len(data)}\0".encode() + data, level)])
        return oid

    def write_file(self, source: Path) -> tuple[str, str, int]:
        """Store a file as a blob, streaming (never whole in memory); return (oid, sha256, size).

        One pass reads, hashes and writes it into a temporary object, renamed
        to the id its bytes hashed to (or dropped if the object is already
        there), so what is stored always matches its name, even if the file
        changes meanwhile. Content that does not compress is stored without
        deflating it (zlib level 0, still a valid loose object): compressing
        random bytes took most of a registration and saved nothing."""
        size = source.stat().st_size
        header = f"blob {size}\0".encode()
        sha1, sha256 = hashlib.sha1(header), hashlib.sha256()
        level = compression_level(source, size)

        def chunks() -> Iterator[bytes]:
            comp = zlib.compressobj(level)
            yield comp.compress(header)
            with progress.task(progress.WRITE, source.name, size) as task, open(source, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    sha1.update(chunk)
                    sha256.update(chunk)
                    task.advance(len(chunk))
                    yield comp.compress(chunk)
            if task.done != size:
                raise changed_while_stored(source)
            yield comp.flush()

        self._commit(lambda: self._path(sha1.hexdigest()), chunks())
        return sha1.hexdigest(), sha256.hexdigest(), size

    def _commit(self, path: Path | Callable[[], Path], chunks: Iterable[bytes]) -> None:
        """Write ``chunks`` to a temporary file and rename it to ``path`` (or to what
        ``path()`` says once every chunk is written); dropped if ``path`` exists by then."""
        _sweep_once(self.objects_dir, (TMP_OBJ,), self.objects_dir.parent)
        tmp, target = None, path if isinstance(path, Path) else self.objects_dir / TMP_OBJ
        try:
            fd, tmp = tempfile.mkstemp(dir=self.objects_dir, prefix=TMP_OBJ)
            target = path if isinstance(path, Path) else Path(tmp)  # named in an error until its id is known
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
            target = path if isinstance(path, Path) else path()
            if target.exists():
                os.unlink(tmp)
                return
            target.parent.mkdir(exist_ok=True)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException as exc:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            refused = _refused_write(exc, self.objects_dir, target)
            if refused is not None:
                raise refused from exc
            raise


def changed_while_stored(source: Path) -> InvalidInputError:
    """The refusal for a file whose size changed while it was being stored."""
    return InvalidInputError(f"{source} changed while it was being stored; register it again once it is written.")


def compression_level(source: Path, size: int) -> int:
    """The zlib level to store ``source`` at: 6 for a small file; for a big one
    1, or 0 (stored, not deflated) when samples from its start, middle and end
    shrink by less than :data:`_WORTH_COMPRESSING` at level 1 (pickled weights,
    archives, images: bytes that do not compress)."""
    if size <= _CHUNK:
        return 6
    with open(source, "rb") as fh:
        sample = fh.read(_SAMPLE * 4)
        for at in (size // 2, size - _SAMPLE):
            sample += os.pread(fh.fileno(), _SAMPLE, at)
    return 1 if len(zlib.compress(sample, 1)) < len(sample) * _WORTH_COMPRESSING else 0


def _refused_write(exc: BaseException, objects_dir: Path, target: Path) -> StorageError | None:
    """The StorageError for an OSError writing into ``objects_dir``. An error
    naming a file elsewhere (the source being read) is not the store's."""
    if not isinstance(exc, OSError):
        return None
    if exc.filename is not None and not Path(os.fsdecode(exc.filename)).is_relative_to(objects_dir):
        return None
    git_dir = objects_dir.parent
    registry = git_dir.parent if git_dir.name == ".git" else git_dir
    return storage_error(exc.errno, target, registry=registry)  # the object, not a temporary name


def _sweep_once(directory: Path, prefixes: tuple[str, ...], git_dir: Path) -> None:
    if directory not in _swept:
        _swept.add(directory)
        remove_stale_temp_files(directory, prefixes, git_dir)


def remove_stale_temp_files(directory: Path, prefixes: tuple[str, ...], git_dir: Path) -> int:
    """Remove the temporary files directly in ``directory`` (named with one of
    ``prefixes``) that a killed writer left behind; return how many.

    Only provably stale files go, by the rule for lock files
    (:func:`gitreg.store.locks.clear_if_stale`): untouched for
    :func:`~gitreg.store.locks.stale_after` seconds, and open in no process
    here. A live writer keeps its file's mtime fresh with every chunk, so its
    file is never removed. Best effort: a failure here never fails a write.
    """
    cutoff = time.time() - locks.stale_after()
    removed = 0
    try:
        with os.scandir(directory) as listing:
            old = [
                Path(e.path)
                for e in listing
                if e.name.startswith(prefixes)
                and e.is_file(follow_symlinks=False)
                and e.stat(follow_symlinks=False).st_mtime <= cutoff
            ]
        for path in old:
            removed += locks.clear_if_stale(path, git_dir, None).gone
    except OSError:
        pass
    return removed


def _pack_header(kind: str, size: int) -> bytes:
    """An object's header in a pack: type and size as git's little-endian varint."""
    code = {"commit": 1, "tree": 2, "blob": 3, "tag": 4}[kind]
    byte = (code << 4) | (size & 0x0F)
    size >>= 4
    out = bytearray()
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def _pack_index(order: list[str], crcs: dict[str, int], offsets: dict[str, int], checksum: bytes) -> bytes:
    """The version-2 index of a pack holding the objects ``order`` (sorted ids)."""
    fanout = [0] * 256
    for oid in order:
        fanout[int(oid[:2], 16)] += 1
    parts = [b"\xfftOc" + (2).to_bytes(4, "big")]
    total = 0
    for count in fanout:
        total += count
        parts.append(total.to_bytes(4, "big"))
    parts += [bytes.fromhex(oid) for oid in order]
    parts += [crcs[oid].to_bytes(4, "big") for oid in order]
    parts += [offsets[oid].to_bytes(4, "big") for oid in order]
    parts.append(checksum)
    data = b"".join(parts)
    return data + hashlib.sha1(data).digest()


def write_pack(pack_dir: Path, objects: dict[str, tuple[str, bytes]]) -> str | None:
    """Write ``oid -> (type, content)`` as one pack (version 2, no deltas) and
    its index (version 2), the formats git documents in gitformat-pack(5).

    Thousands of small objects cost one file pair instead of one file each;
    the index is renamed into place last, so git never sees half a pack.
    Returns the pack's name, or None when there was nothing to write.
    """
    if not objects:
        return None
    try:
        pack_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        refused = _refused_write(exc, pack_dir.parent, pack_dir)
        if refused is not None:
            raise refused from exc
        raise
    _sweep_once(pack_dir, TMP_PACK, pack_dir.parent.parent)
    order = sorted(objects)
    body = hashlib.sha1()
    offsets: dict[str, int] = {}
    crcs: dict[str, int] = {}
    tmp_pack = tmp_idx = ""
    try:
        fd, tmp_pack = tempfile.mkstemp(dir=pack_dir, prefix=TMP_PACK[0])
        with os.fdopen(fd, "wb") as fh:
            head = b"PACK" + (2).to_bytes(4, "big") + len(order).to_bytes(4, "big")
            fh.write(head)
            body.update(head)
            offset = len(head)
            for oid in order:
                kind, data = objects[oid]
                chunk = _pack_header(kind, len(data)) + zlib.compress(data, 1 if len(data) > _CHUNK else 6)
                offsets[oid], crcs[oid] = offset, zlib.crc32(chunk)
                fh.write(chunk)
                body.update(chunk)
                offset += len(chunk)
            if offset >= 1 << 31:
                raise ValueError("pack too large for 32-bit offsets; write it in smaller batches")
            checksum = body.digest()
            fh.write(checksum)
        name = f"pack-{checksum.hex()}"
        fd, tmp_idx = tempfile.mkstemp(dir=pack_dir, prefix=TMP_PACK[1])
        with os.fdopen(fd, "wb") as fh:
            fh.write(_pack_index(order, crcs, offsets, checksum))
        for tmp in (tmp_pack, tmp_idx):
            os.chmod(tmp, 0o444)
        os.replace(tmp_pack, pack_dir / f"{name}.pack")
        os.replace(tmp_idx, pack_dir / f"{name}.idx")
    except BaseException as exc:
        for tmp in (tmp_pack, tmp_idx):
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        refused = _refused_write(exc, pack_dir.parent, pack_dir / "tmp_pack")
        if refused is not None:
            raise refused from exc
        raise
    return name


class ObjectPresence:
    """Whether a repository holds an object, answered from its loose files and
    pack indexes (gitformat-pack(5), version 2) without asking git. In a
    partial clone, asking git about a missing object fetches it, one round trip
    per object; this asks nobody, so the missing ones can be fetched together.

    Index files are read once each and looked up by binary search; the pack
    directory is listed again on every question, so packs that appear (a
    fetch) or go away (a repack) are seen."""

    def __init__(self, objects_dir: Path) -> None:
        self.objects_dir = objects_dir
        self._indexes: dict[str, bytes] = {}

    def __contains__(self, oid: str) -> bool:
        if (self.objects_dir / oid[:2] / oid[2:]).exists():
            return True
        want = bytes.fromhex(oid)
        return any(_index_holds(data, want) for data in self._current())

    def _current(self) -> list[bytes]:
        pack_dir = self.objects_dir / "pack"
        try:
            names = {n for n in os.listdir(pack_dir) if n.endswith(".idx") and n.startswith("pack-")}
        except FileNotFoundError:
            names = set()
        for gone in set(self._indexes) - names:
            del self._indexes[gone]
        for name in names - set(self._indexes):
            try:
                data = (pack_dir / name).read_bytes()
            except FileNotFoundError:  # repacked away meanwhile
                continue
            if data[:8] == b"\xfftOc" + (2).to_bytes(4, "big"):
                self._indexes[name] = data
        return list(self._indexes.values())


def _index_holds(index: bytes, oid: bytes) -> bool:
    """Whether the version-2 pack ``index`` lists ``oid`` (20 bytes)."""
    first = oid[0]
    lo = int.from_bytes(index[8 + 4 * (first - 1) : 12 + 4 * (first - 1)], "big") if first else 0
    hi = int.from_bytes(index[8 + 4 * first : 12 + 4 * first], "big")
    base = 8 + 1024
    while lo < hi:
        mid = (lo + hi) // 2
        got = index[base + 20 * mid : base + 20 * mid + 20]
        if got == oid:
            return True
        if got < oid:
            lo = mid + 1
        else:
            hi = mid
    return False
