"""The git object store: trees and blobs, ref transactions, work-tree sync.

Nothing in this package knows what a model is.
"""

from gitreg.store.objects import MODE_EXEC, MODE_FILE, MODE_LINK, MODE_TREE, TreeEntry
from gitreg.store.repo import (
    EMPTY_TREE,
    ZERO_OID,
    GitStore,
    Identity,
    LogEntry,
    RefConflict,
    RefInfo,
    RefLocked,
    RefUpdate,
    writing_as,
)

__all__ = [
    "EMPTY_TREE",
    "MODE_EXEC",
    "MODE_FILE",
    "MODE_LINK",
    "MODE_TREE",
    "ZERO_OID",
    "GitStore",
    "Identity",
    "LogEntry",
    "RefConflict",
    "RefInfo",
    "RefLocked",
    "RefUpdate",
    "TreeEntry",
    "writing_as",
]
