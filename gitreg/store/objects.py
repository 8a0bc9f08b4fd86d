"""Git's object format: encode, hash and write loose objects in-process.

Registering a version writes a handful of small objects. Writing them here
instead of spawning ``git hash-object``/``mktree``/``commit-tree`` for each
keeps a registration to one git process (the ref transaction). The format is
git's documented, stable loose-object format; ``git fsck --strict`` in the
tests holds us to it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

MODE_TREE = "40000"
MODE_FILE = "100644"
MODE_EXEC = "100755"
MODE_LINK = "120000"
_CHUNK = 1 << 20


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
    a temporary file in the fan-out directory, then rename into place. A
    process killed half way leaves only a temporary file, never a torn object.
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
        """Store a file as a blob, streaming; return (oid, sha256, size)."""
        size = source.stat().st_size
        sha1 = hashlib.sha1(f"blob {size}\0".encode())
        sha256 = hashlib.sha256()
        with open(source, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                sha1.update(chunk)
                sha256.update(chunk)
        oid = sha1.hexdigest()
        path = self._path(oid)
        if not path.exists():
            comp = zlib.compressobj(1 if size > _CHUNK else 6)

            def chunks() -> Iterable[bytes]:
                yield comp.compress(f"blob {size}\0".encode())
                with open(source, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        yield comp.compress(chunk)
                yield comp.flush()

            self._commit(path, chunks())
        return oid, sha256.hexdigest(), size

    def _commit(self, path: Path, chunks: Iterable[bytes]) -> None:
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="tmp_obj_")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
            os.chmod(tmp, 0o444)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
