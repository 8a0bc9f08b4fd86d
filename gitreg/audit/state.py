"""One check run's state: the refs it found, the findings so far, and the readers and caches the rules share."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from gitreg.audit.findings import Finding, Rule
from gitreg.errors import InvalidInputError
from gitreg.manifest import MANIFEST_FILE, Manifest, ModelRecord
from gitreg.registry import layout
from gitreg.registry.policy_gate import PolicyGate
from gitreg.store import GitStore, RefInfo, TreeEntry, lfs

FULL_HISTORY_HINT = (
    "CI checkouts must carry full history, all tags and the stage branches: with actions/checkout set "
    "'fetch-depth: 0'; elsewhere run 'git fetch --unshallow --tags origin \"+refs/heads/*:refs/remotes/origin/*\"'"
)


@dataclass
class Tag:
    """A version tag as found; :func:`gitreg.audit.versions.check_tag` fills in ``tree`` and
    ``manifest`` once they check out, and the branch rules compare against them."""

    name: str
    version: int
    ref: str  # refs/tags/<name>/v<N>
    commit: str
    tree: str | None = None
    manifest: Manifest | None = None

    @property
    def short(self) -> str:
        return layout.short_ref(self.ref)


@dataclass
class Refs:
    """The refs a check reads: main, the stage branches and the version tags."""

    main: str | None = None
    all_mains: list[str] = field(default_factory=list)  # the local main and every remote's main
    stages: dict[str, str] = field(default_factory=dict)  # stage -> ref (local branch, else remote-tracking)
    tags: dict[tuple[str, int], Tag] = field(default_factory=dict)


def scan_refs(infos: list[RefInfo]) -> Refs:
    """Main (local, else a remote's), each stage (local branch, else remote-tracking) and each version tag."""
    refs = Refs()
    names = {i.ref for i in infos}
    remote_mains = sorted(r for r in names if layout.remote_branch(r) == layout.MAIN_BRANCH)
    refs.main = layout.MAIN if layout.MAIN in names else next(iter(remote_mains), None)
    refs.all_mains = sorted({*remote_mains, *([layout.MAIN] if layout.MAIN in names else [])})
    for info in sorted(infos, key=lambda i: i.ref):
        local = layout.stage_of(info.ref)
        if local is not None:
            refs.stages[local] = info.ref
        tracked = layout.remote_branch(info.ref)
        remote = layout.stage_of(layout.branch_ref(tracked)) if tracked else None
        if remote is not None:
            refs.stages.setdefault(remote, info.ref)
        key = layout.parse_tag(info.ref) if info.ref.startswith(layout.TAG_PREFIX) else None
        if key is not None:
            refs.tags[key] = Tag(key[0], key[1], info.ref, info.peeled)
    return refs


@dataclass
class Audit:
    """What one run has read and found; every rule adds its findings here."""

    store: GitStore
    allow_overrides: bool = True
    findings: list[Finding] = field(default_factory=list)
    refs: Refs = field(default_factory=Refs)
    blob_digests: dict[str, tuple[str, int]] = field(default_factory=dict)
    checked_trees: set[str] = field(default_factory=set)
    _gate: PolicyGate | None = None

    def add(self, model: str | None, version: int | None, file: str, rule: Rule, message: str) -> None:
        self.findings.append(Finding(model, version, file, rule, message))

    def scan_refs(self) -> None:
        self.refs = scan_refs(self.store.list_refs(layout.ALL_REFS))

    @property
    def gate(self) -> PolicyGate:
        """The policy gate over the stage branches found, made once (it caches what each branch held)."""
        if self._gate is None:
            self._gate = PolicyGate(self.store, self.refs.stages)
        return self._gate

    def models(self, rev: str | None) -> dict[str, TreeEntry]:
        """The entries of ``models/`` on ``rev`` (none when it has none)."""
        return (self.store.read_tree(layout.at(rev, layout.MODELS_DIR)) or {}) if rev else {}

    def records(self, rev: str | None, label: str, report: bool) -> dict[str, ModelRecord]:
        """The records on ``rev`` that parse, by model name; with ``report``, the others are findings."""
        if rev is None:
            return {}
        out = {}
        for entry in self.models(rev).values():
            if entry.is_tree or not entry.name.endswith(layout.RECORD_SUFFIX):
                continue
            name = entry.name[: -len(layout.RECORD_SUFFIX)]
            where = layout.at(label, f"{layout.MODELS_DIR}/{entry.name}")
            try:
                record = ModelRecord.from_yaml(self.store.read_blob(entry.oid) or b"", where)
            except InvalidInputError as exc:
                if report:
                    self.add(name, None, where, Rule.SCHEMA, str(exc))
                continue
            if record.name != name and report:
                self.add(name, None, where, Rule.SCHEMA, f"record names model {record.name!r}, not {name!r}.")
            out[name] = record
        return out

    def manifest(self, tree: str, where: str, model: str, version: int | None) -> Manifest | None:
        """The manifest of the version tree ``tree``, or None after a schema finding."""
        raw = self.store.read_blob(layout.at(tree, MANIFEST_FILE))
        if raw is None:
            self.add(model, version, where, Rule.SCHEMA, f"{MANIFEST_FILE} is missing.")
            return None
        try:
            return Manifest.from_yaml(raw, where)
        except InvalidInputError as exc:
            self.add(model, version, where, Rule.SCHEMA, str(exc))
            return None

    def files(self, tree: str, prefix: str = "") -> dict[str, str]:
        """Every file under ``tree``: its path -> its blob."""
        out = {}
        for entry in (self.store.read_tree(tree) or {}).values():
            if entry.is_tree:
                out.update(self.files(entry.oid, f"{prefix}{entry.name}/"))
            else:
                out[prefix + entry.name] = entry.oid
        return out

    def digest(self, blob: str) -> tuple[str, int] | None:
        """The sha256 and size of what ``blob`` holds (for a Git LFS pointer, of what it points at), once per blob."""
        if blob not in self.blob_digests:
            got = self.store.read(blob)
            if got is None or got[1] != "blob":
                return None
            data = got[2]
            pointer = lfs.parse_pointer(data)
            if pointer:
                self.blob_digests[blob] = (pointer.sha256, pointer.size)
            else:
                self.blob_digests[blob] = (hashlib.sha256(data).hexdigest(), len(data))
        return self.blob_digests[blob]

    def tree_differences(self, want: str, got: str) -> list[str]:
        """The first five paths where tree ``got`` differs from ``want``, each with how."""
        a, b = self.files(want), self.files(got)
        changed = [p for p in sorted({*a, *b}) if a.get(p) != b.get(p)]
        return [f"{p} {'added' if p not in a else 'removed' if p not in b else 'changed'}" for p in changed[:5]]

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (f.model or "", f.version or 0, f.file, f.rule, f.message))
