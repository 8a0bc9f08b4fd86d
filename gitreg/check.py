"""``gitreg check``: verify a registry repository the way CI should.

What is verified, each problem reported as a :class:`Finding` (checking
keeps going after one):

* every ``registry.yaml``, ``models/<name>.yaml`` record and manifest on
  ``main``, at each version tag and on each stage branch parses;
* every artifact of every version matches its manifest's sha256 and size
  (blobs are read through the store's ``cat-file --batch`` reader, once per
  distinct blob; Git LFS pointers are checked by the sha256 they carry);
* every path a version's ``MLmodel`` names is one of its artifacts;
* every version tag holds ``models/<name>/`` for that name and version;
* ``main``'s and every stage branch's ``models/<name>/`` equals the subtree
  of the version tag its manifest names;
* every ``models/<name>/`` on ``main`` has its record ``models/<name>.yaml``,
  and every model name in the registry is one the current name rules accept;
* no stage holds an entry readers ignore: a deleted version, a version not
  registered on ``main``, or a model without a record (what a crash between
  a delete's two steps leaves);
* version tags were never moved (see :func:`_check_tag_not_moved`);
* the promotion policy of ``registry.yaml`` (:mod:`gitreg.policy`), read from
  the trusted base, holds for what each stage holds, or with ``ref`` for
  what the ref under review changes, including, where it requires signing,
  that a signed promotion commit is bound to its stage and version
  (:mod:`gitreg.signatures`). The policy is evaluated by
  :class:`gitreg.registry.policy_gate.PolicyGate`, the same gate a promotion
  passes before it is written.

:func:`check_staged` checks what a work tree's index would commit (for
pre-commit); :func:`check_push` what a push would do (for the pre-receive
hook of :mod:`gitreg.hooks`).

The cost is linear in the number of versions: one ``git for-each-ref`` for
all refs, one ``git rev-list`` of ``main``, object reads over the batch
reader, and a ``git log``/``verify-*`` per model only where a policy asks.

A shallow or tag-less checkout (what CI checkouts usually are) is completed
by fetching from the remote; with no remote it is a finding that says what
to change. It never passes for lack of evidence.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from gitreg import yamlio
from gitreg.errors import GitError, InvalidInputError, NotFoundError
from gitreg.manifest import MANIFEST_FILE, Manifest, ModelRecord
from gitreg.names import check_model_name
from gitreg.policy import StagePolicy, parse_policy
from gitreg.registry import CONFIG_FILE, layout
from gitreg.registry.policy_gate import Candidate, Finding, PolicyGate
from gitreg.registry.reader import is_live
from gitreg.store import ZERO_OID, GitStore, RefInfo, audit, lfs

_STAGE_IN_NAME = re.compile(r"(?:^|/)stages/(?P<stage>[^/]+)\Z")
_PROMOTE_IN_NAME = re.compile(r"(?:^|/)promote/(?P<stage>[^/]+)/")
FULL_HISTORY_HINT = (
    "CI checkouts must carry full history, all tags and the stage branches: with actions/checkout set "
    "'fetch-depth: 0'; elsewhere run 'git fetch --unshallow --tags origin \"+refs/heads/*:refs/remotes/origin/*\"'"
)

RULES = {
    "checkout": "the repository lacks history, tags or branches the check needs",
    "schema": "a registry.yaml, record or manifest does not parse",
    "artifact": "an artifact does not match its manifest's sha256 and size",
    "artifact-path": "a version's MLmodel names a file that is not one of its artifacts",
    "tag-content": "a version tag does not hold that model and version",
    "tag-missing": "a registered version has no tag",
    "tag-moved": "a version tag points somewhere other than where it was registered",
    "record-rewritten": "a record's registration entries were changed",
    "latest-subtree": "main's models/<name>/ differs from its version tag",
    "orphan-version": "main's models/<name>/ has no record models/<name>.yaml",
    "model-name": "a model name that the current name rules refuse",
    "stage-subtree": "a stage branch's models/<name>/ differs from its version tag",
    "stage-stale": "a stage holds a deleted or unregistered version, or a model without a record (readers ignore it)",
    "stage-unknown": "the stage the ref under review is for cannot be told",
    "policy-requires-stage": "the version was never in the stage the policy requires first",
    "policy-metric": "a metric misses the policy's threshold",
    "policy-signature": "neither the stage move nor the version tag carries a valid signature",
    "policy-signature-binding": "a signed promotion commit does not name the stage, model and version it holds",
    "push-tag": "a push moves or deletes a version tag",
    "push-main": "a push deletes main or rewrites its history (not a fast-forward)",
}


@dataclass
class _Tag:
    name: str
    version: int
    ref: str  # refs/tags/<name>/v<N>
    commit: str
    tree: str | None = None
    manifest: Manifest | None = None

    @property
    def short(self) -> str:
        return self.ref[len(layout.TAG_PREFIX) :]


@dataclass
class _Refs:
    main: str | None = None
    all_mains: list[str] = field(default_factory=list)  # the local main and every remote's main
    stages: dict[str, str] = field(default_factory=dict)  # stage -> ref (local branch, else remote-tracking)
    tags: dict[tuple[str, int], _Tag] = field(default_factory=dict)


short_ref = layout.short_ref


def stage_of_refname(name: str) -> str | None:
    """The stage a branch name is about: ``origin/stages/production`` or
    ``promote/production/iris-v3`` -> ``production``."""
    m = _STAGE_IN_NAME.search(name) or _PROMOTE_IN_NAME.search(name)
    return m.group("stage").lower() if m else None


def check_registry(
    store: GitStore,
    *,
    ref: str | None = None,
    base: str | None = None,
    fetch: bool = True,
    allow_overrides: bool = True,
    policy_from: str | None = None,
    ref_label: str | None = None,
) -> list[Finding]:
    """Everything that does not hold, in a stable order; empty when all hold.

    ``ref`` is a ref under review (e.g. a pull request's merge commit) and
    ``base`` the trusted ref it would update; the policy is read from
    ``base`` (or ``main`` when ``base`` is a stage branch), never from ``ref``.
    ``policy_from`` (a commit of main) overrides where the policy is read from:
    the pre-receive hook checks a pushed state against the main it had before.
    With ``allow_overrides`` a policy violation whose promotion commit records
    an override (``Gitreg-Policy-Override``, bound to its stage, model and
    version) is not reported. Raises :class:`NotFoundError` if ``ref`` or
    ``base`` does not exist.
    """
    checker = _Checker(store, ref, base, fetch, allow_overrides, policy_from)
    checker.ref_label = ref_label
    return checker.run()


def check_staged(store: GitStore, *, index_file: Path | None = None, fetch: bool = True) -> list[Finding]:
    """Check what the index holds as the next commit of the branch the work tree is on (for a
    pre-commit hook): a change to ``main`` is held to schema and integrity (a hand edit of a
    version's files differs from its tag), a stage branch to its policy. Findings name ``index``."""
    from gitreg.registry.layout import MAIN
    from gitreg.store import index, worktree

    tree = index.staged_tree(store, index_file)
    branch = worktree.checked_out(store) or MAIN
    head = store.ref(branch)
    commit = store.write_commit(tree, [head] if head else [], "gitreg check --staged")
    return check_registry(store, ref=commit, base=branch, fetch=fetch, ref_label="index")


class _Checker:
    def __init__(
        self,
        store: GitStore,
        ref: str | None,
        base: str | None,
        fetch: bool,
        allow_overrides: bool = True,
        policy_from: str | None = None,
    ) -> None:
        self.store = store
        self.ref = ref
        self.base = base
        self.fetch = fetch
        self.allow_overrides = allow_overrides
        self.policy_from = policy_from
        self.findings: list[Finding] = []
        self.refs = _Refs()
        self.blob_digests: dict[str, tuple[str, int]] = {}
        self.checked_trees: set[str] = set()
        self.gate: PolicyGate | None = None
        self.ref_label: str | None = None

    def add(self, model: str | None, version: int | None, file: str, rule: str, message: str) -> None:
        self.findings.append(Finding(model, version, file, rule, message))

    # -- refs and completeness -------------------------------------------------

    def _scan_refs(self) -> list[RefInfo]:
        infos = self.store.list_refs(layout.ALL_REFS)
        refs = _Refs()
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
                refs.tags[key] = _Tag(key[0], key[1], info.ref, info.peeled)
        self.refs = refs
        return infos

    def _records(self, rev: str | None, label: str, report: bool) -> dict[str, ModelRecord]:
        if rev is None:
            return {}
        out = {}
        tree = self.store.read_tree(f"{rev}:models") or {}
        for entry in tree.values():
            if entry.is_tree or not entry.name.endswith(".yaml"):
                continue
            name = entry.name[:-5]
            where = f"{label}:models/{entry.name}"
            raw = self.store.read_blob(entry.oid)
            try:
                record = ModelRecord.from_yaml(raw or b"", where)
            except InvalidInputError as exc:
                if report:
                    self.add(name, None, where, "schema", str(exc))
                continue
            if record.name != name and report:
                self.add(name, None, where, "schema", f"record names model {record.name!r}, not {name!r}.")
            out[name] = record
        return out

    def _missing_tags(self, records: dict[str, ModelRecord]) -> list[tuple[str, int]]:
        missing = []
        for name, record in records.items():
            expected = record.registered.keys() if record.registered else range(1, record.next_version)
            missing += [(name, v) for v in expected if v not in record.deleted and (name, v) not in self.refs.tags]
        return missing

    def _complete(self) -> None:
        """Fetch what a partial checkout lacks, or report what to change."""
        self._scan_refs()
        shallow = audit.is_shallow(self.store)
        remotes = audit.remotes(self.store)
        remote = "origin" if "origin" in remotes else (remotes[0] if remotes else None)
        main_records = self._records(self.refs.main, "main", report=False)
        incomplete = (
            shallow
            or self.refs.main is None
            or bool(self._missing_tags(main_records))
            or (remote is not None and not audit.fetches_all_branches(self.store, remote))
        )
        if incomplete and remote is not None and self.fetch:
            try:
                audit.fetch_everything(self.store, remote)
            except GitError as exc:  # e.g. a tag moved on the remote: git refuses to clobber it; report, go on
                why = "; ".join(
                    line.strip() for line in str(exc).splitlines() if any(w in line for w in ("!", "error", "fatal"))
                )
                self.add(
                    None,
                    None,
                    f"remote {remote}",
                    "checkout",
                    f"could not fetch: {why or exc}. {FULL_HISTORY_HINT}.",
                )
            self._scan_refs()
            shallow = audit.is_shallow(self.store)
        if shallow:
            self.add(
                None,
                None,
                "(repository)",
                "checkout",
                f"the checkout is shallow, so history can't be verified. {FULL_HISTORY_HINT}.",
            )
        if self.refs.main is None:
            self.add(None, None, "(repository)", "checkout", f"no main branch (local or remote). {FULL_HISTORY_HINT}.")

    # -- running -----------------------------------------------------------------

    def _resolve(self, rev: str, what: str) -> str:
        got = self.store.read(f"{rev}^{{commit}}")
        if got is None:
            raise NotFoundError(
                f"{what} {rev!r} does not exist in this repository. Fetch it first ({FULL_HISTORY_HINT})."
            )
        return got[0]

    def run(self) -> list[Finding]:
        self._complete()
        base_commit = self._resolve(self.base, "--base") if self.base else None
        ref_commit = self._resolve(self.ref or "HEAD", "--ref") if (self.ref or self.base) else None
        main = self.refs.main
        base_is_main_like = bool(base_commit and self.store.read(f"{base_commit}:{CONFIG_FILE}"))
        trusted = base_commit if base_is_main_like else main
        trusted_label = short_ref(self.base) if base_is_main_like and self.base else short_ref(main or "main")

        main_records = self._records(main, short_ref(main or "main"), report=True)
        trusted_records = main_records if trusted == main else self._records(trusted, trusted_label, report=False)
        policy = (
            self._policy(self.policy_from, short_ref(main or "main"))
            if self.policy_from
            else self._policy(trusted, trusted_label)
        )
        # A local main may lag its remote's: a tag registered since is still "on main".
        main_commits = audit.reachable_commits(self.store, *self.refs.all_mains) if main else set()

        for tag in self.refs.tags.values():
            record = trusted_records.get(tag.name)
            if (
                main_commits
                and tag.commit not in main_commits
                and (record is None or tag.version >= record.next_version)
            ):
                continue  # an interrupted registration's tag: not a version; the next registration replaces it
            self._check_tag(tag, record, main_commits, trusted_label)
        for name, version in self._missing_tags(trusted_records):
            self.add(
                name,
                version,
                layout.tag_ref(name, version),
                "tag-missing",
                f"version {version} is registered on {trusted_label} but its tag is missing; {FULL_HISTORY_HINT}.",
            )
        if main is not None:
            self._check_view(main, short_ref(main), main_records, "latest-subtree")
            self._check_orphans(main, short_ref(main), main_records)
        self._check_names(main)

        reviewing = ref_commit is not None
        for stage, branch in sorted(self.refs.stages.items()):
            held = self._check_view(branch, short_ref(branch), main_records, "stage-subtree")
            if not reviewing and stage in policy:
                for name, tag in held.items():
                    self._check_policy(policy[stage], name, tag, branch, short_ref(branch))

        if ref_commit is not None:
            self._check_candidate(ref_commit, base_commit, base_is_main_like, trusted_records, main_records, policy)
        return sorted(self.findings, key=lambda f: (f.model or "", f.version or 0, f.file, f.rule, f.message))

    def _policy(self, rev: str | None, label: str) -> dict[str, StagePolicy]:
        where = f"{label}:{CONFIG_FILE}"
        raw = self.store.read_blob(f"{rev}:{CONFIG_FILE}") if rev else None
        if raw is None:
            if rev is not None:
                self.add(None, None, where, "schema", f"{CONFIG_FILE} is missing; this is not a gitreg registry.")
            return {}
        try:
            return parse_policy(yamlio.load_mapping(raw, where), where)
        except InvalidInputError as exc:
            self.add(None, None, where, "schema", str(exc))
            return {}

    # -- versions ----------------------------------------------------------------

    def _check_tag(self, tag: _Tag, record: ModelRecord | None, main_commits: set[str], trusted: str) -> None:
        where = f"{tag.short}:models/{tag.name}/"
        tree = self.store.tree_oid(f"{tag.commit}:models/{tag.name}")
        if tree is None:
            self.add(
                tag.name, tag.version, where, "tag-content", f"tag {tag.short} does not contain models/{tag.name}/."
            )
            return
        tag.tree = tree
        manifest = self._manifest(tree, where + MANIFEST_FILE, tag.name, tag.version)
        if manifest is not None and (manifest.name != tag.name or manifest.version != tag.version):
            self.add(
                tag.name,
                tag.version,
                where + MANIFEST_FILE,
                "tag-content",
                f"tag {tag.short} holds {manifest.name!r} version {manifest.version}, not {tag.name!r} "
                f"version {tag.version}.",
            )
            manifest = None
        tag.manifest = manifest
        self._check_tag_not_moved(tag, record, main_commits, trusted)
        if manifest is not None:
            self._check_artifacts(tree, manifest, where, tag.name, tag.version)

    def _check_tag_not_moved(self, tag: _Tag, record: ModelRecord | None, main_commits: set[str], trusted: str) -> None:
        """A tag was moved if (a) its ``models/<name>/`` tree differs from the
        tree the model's record on main says the version was registered with,
        or (b) it points at a commit outside main's history.

        Why this design: the evidence lives on ``main``, which a tag move can't
        rewrite (changing it needs a reviewed commit on a protected branch),
        and it costs nothing per tag: the record is read once per model and
        main's history once. (a) catches a tag moved to other content even
        inside main's history (``git tag -f m/v1 <v2's commit>``); (b) covers
        versions registered before records carried the tree, and a tag moved
        to a commit forged off to the side. A tag moved to another commit of
        main with the very same subtree is not reported: its content, which is
        what a version is, did not change.
        """
        recorded = record.registered.get(tag.version) if record is not None else None
        if recorded is not None and tag.tree is not None and recorded != tag.tree:
            self.add(
                tag.name,
                tag.version,
                tag.short,
                "tag-moved",
                f"tag {tag.short} now holds tree {tag.tree[:12]}, but version {tag.version} was registered with "
                f"tree {recorded[:12]} (models/{tag.name}.yaml on {trusted}); restore the tag or investigate.",
            )
        elif main_commits and tag.commit not in main_commits:
            self.add(
                tag.name,
                tag.version,
                tag.short,
                "tag-moved",
                f"tag {tag.short} points at commit {tag.commit[:12]}, which is not in main's history; "
                "versions are registered on main, so the tag was moved or forged.",
            )

    def _manifest(self, tree: str, where: str, model: str, version: int | None) -> Manifest | None:
        raw = self.store.read_blob(f"{tree}:{MANIFEST_FILE}")
        if raw is None:
            self.add(model, version, where, "schema", f"{MANIFEST_FILE} is missing.")
            return None
        try:
            return Manifest.from_yaml(raw, where)
        except InvalidInputError as exc:
            self.add(model, version, where, "schema", str(exc))
            return None

    def _files(self, tree: str, prefix: str = "") -> dict[str, str]:
        out = {}
        for entry in (self.store.read_tree(tree) or {}).values():
            if entry.is_tree:
                out.update(self._files(entry.oid, f"{prefix}{entry.name}/"))
            else:
                out[prefix + entry.name] = entry.oid
        return out

    def _digest(self, blob: str) -> tuple[str, int] | None:
        if blob not in self.blob_digests:
            got = self.store.read(blob)
            if got is None or got[1] != "blob":
                return None
            data = got[2]
            pointer = lfs.parse_pointer(data)
            if pointer:  # Git LFS: the pointer names the content's sha256 and size
                self.blob_digests[blob] = (pointer.sha256, pointer.size)
            else:
                self.blob_digests[blob] = (hashlib.sha256(data).hexdigest(), len(data))
        return self.blob_digests[blob]

    def _check_artifacts(self, tree: str, manifest: Manifest, where: str, name: str, version: int) -> None:
        if tree in self.checked_trees:
            return
        self.checked_trees.add(tree)
        files = self._files(tree)
        self._check_artifact_paths(files, manifest, where, name, version)
        for art in manifest.artifacts:
            blob = files.pop(art.path, None)
            digest = self._digest(blob) if blob else None
            if digest is None:
                self.add(name, version, where + art.path, "artifact", "listed in the manifest but missing.")
            elif digest != (art.sha256, art.size):
                self.add(
                    name,
                    version,
                    where + art.path,
                    "artifact",
                    f"sha256 {digest[0][:12]}… size {digest[1]} but the manifest says sha256 {art.sha256[:12]}… "
                    f"size {art.size}: the file was changed after registration.",
                )
        files.pop(MANIFEST_FILE, None)
        for extra in sorted(files):
            self.add(name, version, where + extra, "artifact", "file is not listed in the manifest.")

    def _check_artifact_paths(
        self, files: dict[str, str], manifest: Manifest, where: str, name: str, version: int
    ) -> None:
        """What ``MLmodel`` names must be an artifact: a loader opens nothing else
        (:func:`gitreg.flavors.loading.artifact_path`), so such a version cannot load."""
        from gitreg.flavors.loading import artifact_name
        from gitreg.flavors.mlmodel import MLMODEL, MLModel

        raw = self.store.read_blob(files[MLMODEL]) if MLMODEL in files else None
        if raw is None or lfs.parse_pointer(raw):
            return
        try:
            mlmodel = MLModel.from_yaml(raw, where + MLMODEL)
        except InvalidInputError as exc:
            self.add(name, version, where + MLMODEL, "artifact-path", f"the files it names cannot be told: {exc}")
            return
        listed = {a.path for a in manifest.artifacts}
        for key, rel in mlmodel.named_paths():
            if artifact_name(rel, listed, tree=True) is None:
                self.add(
                    name,
                    version,
                    where + MLMODEL,
                    "artifact-path",
                    f"{key} is {rel!r}, which is not one of the version's artifacts; loading it is refused. "
                    "Register a version whose MLmodel names only its own files.",
                )

    # -- branches ------------------------------------------------------------------

    def _check_view(
        self, rev: str, label: str, records: dict[str, ModelRecord], rule: str, only: set[str] | None = None
    ) -> dict[str, _Tag]:
        """Check each ``models/<name>/`` of ``rev`` against its tag; returns
        the tags of the versions it holds (those that check out)."""
        held: dict[str, _Tag] = {}
        models = self.store.read_tree(f"{rev}:models") or {}
        for entry in sorted(models.values(), key=lambda e: e.name):
            if not entry.is_tree or (only is not None and entry.name not in only):
                continue
            name, where = entry.name, f"{label}:models/{entry.name}/"
            manifest = self._manifest(entry.oid, where + MANIFEST_FILE, name, None)
            if manifest is None:
                continue
            version = manifest.version
            if manifest.name != name:
                self.add(name, version, where + MANIFEST_FILE, rule, f"manifest names model {manifest.name!r}.")
                continue
            tag = self.refs.tags.get((name, version))
            record = records.get(name)
            if rule == "stage-subtree" and (record is None or not is_live(record, version)):
                self._stale(name, version, where, label, record)
                continue
            if tag is None or tag.tree is None:
                self.add(name, version, where, rule, f"names version {version} but tag {name}/v{version} is missing.")
                continue
            if record is not None and version in record.deleted:
                self.add(name, version, where, rule, f"holds version {version}, which was deleted.")
            if entry.oid != tag.tree:
                self.add(
                    name,
                    version,
                    where,
                    rule,
                    f"says version {version} but differs from tag {tag.short} "
                    f"({', '.join(self._tree_differences(tag.tree, entry.oid)) or 'tree differs'}).",
                )
                continue
            held[name] = tag
        return held

    def _stale(self, name: str, version: int, where: str, label: str, record: ModelRecord | None) -> None:
        """A stage entry no reader uses: a crash between a delete's two steps (main, then the
        stages) leaves one. A demote or the next promotion clears it while the model has a record."""
        stage = label.rsplit("stages/", 1)[-1]
        if record is None:
            why = f"model {name!r} has no record on main (it was deleted)"
            fix = (
                f"remove it with a commit on stages/{stage} that deletes models/{name}/ "
                f"(git rm -r models/{name}), or register {name} again and run 'gitreg demote {name} {stage}'"
            )
        else:
            if version in record.deleted:
                why = f"version {version} was deleted"
            else:
                why = f"version {version} is not registered on main (the next version is {record.next_version})"
            fix = f"clear it with 'gitreg demote {name} {stage}' (the next promotion of {name} to {stage} does too)"
        self.add(
            name,
            version,
            where,
            "stage-stale",
            f"holds version {version} but {why}; readers ignore it. To tidy, {fix}.",
        )

    def _check_orphans(self, rev: str, label: str, records: dict[str, ModelRecord]) -> None:
        """A version directory on main whose record is missing: e.g. left by an old gitreg when a
        model named ``<name>.yaml`` wrote its version directory over ``<name>``'s record."""
        models = self.store.read_tree(f"{rev}:models") or {}
        for entry in sorted(models.values(), key=lambda e: e.name):
            clash = models.get(f"{entry.name}.yaml")
            if not entry.is_tree or entry.name in records or (clash is not None and not clash.is_tree):
                continue  # a record that does not parse is a schema finding already
            over = ""
            if clash is not None and clash.is_tree:
                over = f" (models/{entry.name}.yaml is the version directory of a model named '{entry.name}.yaml')"
            self.add(
                entry.name,
                None,
                f"{label}:models/{entry.name}/",
                "orphan-version",
                f"main holds a version directory for {entry.name!r} but no record models/{entry.name}.yaml{over}; "
                "gitreg does not list the model. Restore the record from history "
                f"(git log -- models/{entry.name}.yaml) "
                "or remove the directory with a commit.",
            )

    def _check_names(self, main: str | None) -> None:
        """Every model name the registry holds (records and version directories on main, stage
        entries, tags) must pass today's name rules; the first place each bad name is seen is reported."""
        seen: dict[str, str] = {}
        for rev, label in [(main, short_ref(main or "main")), *((b, short_ref(b)) for b in self.refs.stages.values())]:
            if rev is None:
                continue
            for entry in (self.store.read_tree(f"{rev}:models") or {}).values():
                name = entry.name if entry.is_tree else entry.name[:-5] if entry.name.endswith(".yaml") else None
                if name is not None:
                    seen.setdefault(name, f"{label}:models/{entry.name}{'/' if entry.is_tree else ''}")
        for tag in self.refs.tags.values():
            seen.setdefault(tag.name, tag.ref)
        for name, where in sorted(seen.items()):
            try:
                check_model_name(name)
            except InvalidInputError as exc:
                self.add(
                    name,
                    None,
                    where,
                    "model-name",
                    f"{exc} An older gitreg accepted it; its files may overwrite another model's. Re-register the "
                    "versions under a valid name and delete this one with git.",
                )

    def _tree_differences(self, want: str, got: str) -> list[str]:
        a, b = self._files(want), self._files(got)
        changed = [p for p in sorted({*a, *b}) if a.get(p) != b.get(p)]
        return [f"{p} {'added' if p not in a else 'removed' if p not in b else 'changed'}" for p in changed[:5]]

    # -- the ref under review ------------------------------------------------------

    def _check_candidate(
        self,
        commit: str,
        base: str | None,
        base_is_main_like: bool,
        trusted_records: dict[str, ModelRecord],
        main_records: dict[str, ModelRecord],
        policy: dict[str, StagePolicy],
    ) -> None:
        label = self.ref_label or self.ref or "HEAD"
        # What the ref is for is decided by the trusted side (the base), so a
        # ref under review can't change how it is checked, e.g. by adding a
        # registry.yaml to a stage branch.
        if base is not None:
            stage = None if base_is_main_like else stage_of_refname(self.base or "")
        else:
            stage = stage_of_refname(self.ref or "")
        main_like = stage is None and (base_is_main_like or (base is None and self._has_config(commit)))
        if main_like:
            records = self._records(commit, label, report=True)
            self._check_rewritten(trusted_records, records, label)
            self._policy(commit, label)  # schema only: a ref under review never sets its own policy
            self._check_view(commit, label, records, "latest-subtree")
            return
        if stage is None:
            self.add(
                None,
                None,
                label,
                "stage-unknown",
                "cannot tell which stage this ref is for; pass --base origin/stages/<stage> (the branch it would "
                "update).",
            )
            return
        base_rev = base if base is not None and not base_is_main_like else self.refs.stages.get(stage)
        changed_models = self._changed_models(base_rev, commit)
        held = self._check_view(commit, label, main_records, "stage-subtree", only=changed_models)
        if stage in policy:
            for name, tag in held.items():
                self._check_policy(policy[stage], name, tag, commit, label)

    def _check_rewritten(self, old: dict[str, ModelRecord], new: dict[str, ModelRecord], label: str) -> None:
        for name, before in old.items():
            after = new.get(name)
            changed = [v for v, t in before.registered.items() if after is not None and after.registered.get(v) != t]
            for v in changed:
                self.add(
                    name,
                    v,
                    f"{label}:models/{name}.yaml",
                    "record-rewritten",
                    f"changes the tree version {v} was registered with; registrations are append-only.",
                )

    def _has_config(self, commit: str) -> bool:
        return self.store.read(f"{commit}:{CONFIG_FILE}") is not None

    def _changed_models(self, base: str | None, commit: str) -> set[str]:
        new = self.store.read_tree(f"{commit}:models") or {}
        old = (self.store.read_tree(f"{base}:models") or {}) if base else {}
        return {n for n, e in new.items() if e.is_tree and (n not in old or old[n].oid != e.oid)}

    # -- policy ----------------------------------------------------------------------

    def _check_policy(self, policy: StagePolicy, name: str, tag: _Tag, rev: str, label: str) -> None:
        """The policy's findings for what ``rev`` holds (:mod:`gitreg.registry.policy_gate`), unless
        the promotion commit records an override for exactly this stage, model and version and
        overrides are honoured."""
        if self.gate is None:
            self.gate = PolicyGate(self.store, self.refs.stages)
        candidate = Candidate(name, tag.version, tag.ref, tag.tree, tag.manifest, rev, label)
        found = self.gate.evaluate(policy, candidate)
        if found and self.allow_overrides and self.gate.override_of(policy.stage, candidate) is not None:
            return
        self.findings += found


# -- a push, before git accepts it -------------------------------------------------


@dataclass(frozen=True)
class PushedRef:
    """One line of what git gives a pre-receive hook: ``ref`` moves from ``old`` to ``new``
    (None: created / deleted)."""

    old: str | None
    new: str | None
    ref: str

    @classmethod
    def parse(cls, line: str) -> PushedRef:
        old, new, ref = line.split(" ", 2)
        return cls(None if old == ZERO_OID else old, None if new == ZERO_OID else new, ref.strip())


def check_push(
    store: GitStore, pushed: list[PushedRef], *, objects: list[Path] | None = None, allow_overrides: bool = False
) -> list[Finding]:
    """What a push would break, judged before git accepts it; empty when it may land.

    ``store`` is the receiving repository as it is (its refs before the push);
    ``objects`` the directories holding the pushed objects (git's quarantine).
    Refused outright: moving or deleting a version tag, deleting ``main`` or
    moving it other than by fast-forward. Then the whole check runs on the
    state the push would create, with the policy of ``main`` before the push
    (the pusher cannot relax it), and every finding that the current state does
    not already have is the push's. A policy override recorded in a pushed
    promotion commit counts only with ``allow_overrides``.
    """
    import tempfile

    from gitreg.registry.layout import MAIN, parse_tag
    from gitreg.store import scratch

    findings: list[Finding] = []
    current = store.ref_oids(layout.ALL_REFS)
    after = dict(current)
    for p in pushed:
        if p.new is None:
            after.pop(p.ref, None)
        else:
            after[p.ref] = p.new
    with tempfile.TemporaryDirectory(prefix="gitreg-push-") as tmp:
        view = scratch.view(Path(tmp) / "view.git", [*(objects or []), store.git_dir / "objects"], after)
        try:
            for p in pushed:
                short = short_ref(p.ref)
                if parse_tag(p.ref) is not None and p.old is not None:
                    tagged = parse_tag(p.ref)
                    assert tagged is not None
                    what = "deletes" if p.new is None else "moves"
                    findings.append(
                        Finding(
                            tagged[0],
                            tagged[1],
                            p.ref,
                            "push-tag",
                            f"the push {what} tag {short}; a version is immutable (register a new version instead).",
                        )
                    )
                if p.ref == MAIN and p.old is not None:
                    if p.new is None:
                        findings.append(Finding(None, None, p.ref, "push-main", "the push deletes main."))
                    elif not view.is_ancestor(p.old, p.new):
                        findings.append(
                            Finding(
                                None,
                                None,
                                p.ref,
                                "push-main",
                                f"the push rewrites main's history ({p.old[:12]} is not in {p.new[:12]}); main only "
                                "moves forward: merge or rebase onto it and push again.",
                            )
                        )
            before = {f.line() for f in check_registry(store, fetch=False, allow_overrides=allow_overrides)}
            main_before = current.get(MAIN)
            found = check_registry(view, fetch=False, allow_overrides=allow_overrides, policy_from=main_before)
            main_after = after.get(MAIN)
            if main_before and main_after and main_before != main_after:
                checker = _Checker(view, None, None, False)
                old = checker._records(main_before, "main", report=False)
                checker._check_rewritten(old, checker._records(main_after, "main", report=False), short_ref(MAIN))
                found += checker.findings
            findings += [f for f in found if f.line() not in before]
        finally:
            view.close()
    return findings
