"""An independent checker of the design brief's storage invariants, used by
the reliability tests after concurrent writers and killed processes.

It reads the repository with plain ``git`` commands (not gitreg's store), so
a bug in the store cannot hide itself from the check.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import yaml
from helpers.gitcli import git

MANIFEST = "gitreg.yaml"


class _Objects:
    """One ``git cat-file --batch`` answering every object question of a check (plain git still)."""

    def __init__(self, repo: Path) -> None:
        self.proc = subprocess.Popen(
            ["git", "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def get(self, spec: str) -> tuple[str, str, bytes] | None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(spec.encode() + b"\n")
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) != 3:
            return None
        data = self.proc.stdout.read(int(header[2]) + 1)[:-1]
        return header[0].decode(), header[1].decode(), data

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


_objects: dict[Path, _Objects] = {}


def _tree(repo: Path, spec: str) -> str | None:
    """The object id ``spec`` names (any kind), or None."""
    objects = _objects.get(repo)
    if objects is None:
        proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", spec], capture_output=True)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None
    got = objects.get(spec)
    return got[0] if got else None


def _blob(repo: Path, spec: str) -> bytes:
    objects = _objects.get(repo)
    if objects is None:  # bytes, which helpers.gitcli.git (text) cannot return
        return subprocess.run(["git", "-C", str(repo), "cat-file", "blob", spec], capture_output=True).stdout
    got = objects.get(spec)
    return got[2] if got and got[1] == "blob" else b""


def fsck_problems(repo: Path) -> list[str]:
    """``git fsck --strict`` errors; dangling objects are fine (a killed writer leaves some)."""
    proc = subprocess.run(
        ["git", "-C", str(repo), "fsck", "--strict", "--no-dangling", "--no-progress"],
        capture_output=True,
        text=True,
    )
    lines = [x for x in (proc.stdout + proc.stderr).splitlines() if x.strip() and not x.startswith("dangling")]
    return [] if proc.returncode == 0 and not lines else [f"git fsck --strict: {x}" for x in lines or ["failed"]]


def check_registry(
    repo: Path, *, fsck: bool = True, recent: int | None = None, settled: bool | None = None
) -> list[str]:
    """Every broken invariant, as a sentence; an empty list means the registry is sound.

    With ``recent`` only each model's newest ``recent`` tags are checked in
    depth (tags are immutable: older ones were checked when they were new).

    ``settled`` adds the checks of the write protocol's two steps (the
    default, None, keeps just the checks above):

    * ``False``, after a writer was killed: besides the above, main's
      ``models/M/`` has a record and is M's newest live version, each
      record's ``registered`` trees are its tags' trees, and a model without
      a record may have several tags main never reached (a killed rename's
      prepared tags), newer than any it did reach. Stage entries of versions
      that are not live, or of models without a record, are allowed: a
      killed tidy-up leaves them and readers ignore them.
    * ``True``, once every writer finished normally: the same, and no stage
      holds an entry that is not a live version of a model with a record, and
      no tag is a leftover (every tag is reachable from main)."""
    problems = fsck_problems(repo) if fsck else []
    _objects[repo] = _Objects(repo)
    try:
        return problems + _check(repo, recent, settled)
    finally:
        _objects.pop(repo).close()


def _check(repo: Path, recent: int | None, settled: bool | None) -> list[str]:
    problems: list[str] = []
    main = _tree(repo, "refs/heads/main^{commit}")
    if main is None:
        return [*problems, "refs/heads/main does not resolve to a commit"]
    on_main = set(git(repo, "rev-list", main).split())
    tags: dict[str, dict[int, str]] = {}
    records: dict[str, dict] = {}
    listing = git(repo, "for-each-ref", "--format=%(refname)%00%(objecttype)%00%(*objecttype)", "refs/tags/")
    for line in listing.splitlines():
        ref, kind, peeled = line.split("\0")
        model, _, v = ref[len("refs/tags/") :].rpartition("/v")
        if kind != "tag" or peeled != "commit":
            problems.append(f"{ref} is not an annotated tag of a commit ({kind}/{peeled})")
            continue
        tags.setdefault(model, {})[int(v)] = ref
    for model, versions in sorted(tags.items()):
        record_raw = _blob(repo, f"{main}:models/{model}.yaml")
        record = yaml.safe_load(record_raw) if record_raw else None
        if record is not None:
            records[model] = record
            # a tag at or past next_version is a registration in flight or killed
            # before main moved: not a version, replaced by the next registration
            leftovers = [v for v in versions if v >= record.get("next_version", 0)]
        else:  # no record: a deleted model's tags stay as history; only the newest may be a leftover
            newest = max(versions)
            reachable = _tree(repo, f"refs/tags/{model}/v{newest}^{{commit}}") in on_main
            leftovers = [newest] if not reachable else []
            if settled is not None:  # a killed rename prepares several tags of a name main never names
                reached = [v for v in versions if _tree(repo, f"{versions[v]}^{{commit}}") in on_main]
                leftovers = [v for v in versions if v not in reached]
                if reached and leftovers and min(leftovers) < max(reached):
                    problems.append(f"{model}: tags {leftovers} off main are older than ones on it")
        if leftovers:
            if settled:
                problems.append(f"{model}: leftover tags {leftovers} (a writer that finished left them)")
            if len(leftovers) > 1 and record is not None:
                problems.append(f"{model}: more than one tag past next_version: {leftovers}")
            versions = {v: ref for v, ref in versions.items() if v not in leftovers}
        if not versions:
            continue
        for v, ref in sorted(versions.items())[-(recent or len(versions)) :]:
            commit = _tree(repo, f"{ref}^{{commit}}")
            if commit is None:
                problems.append(f"{ref}: its commit is missing")
                continue
            if commit not in on_main:
                problems.append(f"{ref}: commit {commit[:12]} is not reachable from main")
            problems += _check_version_tree(repo, f"{ref}^{{commit}}:models/{model}", model, v)
        if record is None:
            continue  # deleted model: its tags stay as history
        # a renamed model has no tags for the versions deleted before the rename: its newest may be one
        gap = set(range(max(versions) + 1, record.get("next_version", 0))) - set(record.get("deleted") or [])
        if record.get("next_version") != max(versions) + 1 and (settled is None or gap or not versions):
            problems.append(f"models/{model}.yaml: next_version {record.get('next_version')} after v{max(versions)}")
        if settled is not None:
            missing = [v for v in live_versions(record) if v not in versions]
            if missing:
                problems.append(f"models/{model}.yaml: live versions {missing} have no tag")
            if live_versions(record) and _tree(repo, f"{main}:models/{model}") is None:
                problems.append(f"main:models/{model}/ is missing though {model} has live versions")
            for v, tree in (record.get("registered") or {}).items():
                if v in versions and tree != _tree(repo, f"{versions[v]}^{{commit}}:models/{model}"):
                    problems.append(f"models/{model}.yaml: registered tree of v{v} is not its tag's")
    for branch in ["refs/heads/main", *_stage_branches(repo)]:
        models = git(repo, "ls-tree", "--name-only", f"{branch}:models", check=False)
        for entry in models.splitlines():
            if entry.endswith(".yaml"):
                continue
            subtree = _tree(repo, f"{branch}:models/{entry}")
            raw = _blob(repo, f"{branch}:models/{entry}/{MANIFEST}")
            if not raw:
                problems.append(f"{branch}:models/{entry}/ has no {MANIFEST}")
                continue
            version = yaml.safe_load(raw).get("version")
            tag_tree = _tree(repo, f"refs/tags/{entry}/v{version}^{{commit}}:models/{entry}")
            if settled is not None and tag_tree is None and entry not in records and branch != "refs/heads/main":
                continue  # a rename that lost its race: its tags were abandoned, its stage entries kept (unread)
            if subtree != tag_tree:
                problems.append(f"{branch}:models/{entry}/ claims v{version} but differs from its tag")
            if settled is not None:
                problems += _check_entry_is_live(branch, entry, version, records.get(entry), settled)
    return problems


def live_versions(record: dict) -> list[int]:
    """The live version numbers a record (parsed ``models/M.yaml``) allows: below next_version, not deleted."""
    deleted = set(record.get("deleted") or [])
    return [v for v in range(1, record.get("next_version", 1)) if v not in deleted]


def _check_entry_is_live(branch: str, model: str, version: int, record: dict | None, settled: bool) -> list[str]:
    live = record is not None and version in live_versions(record)
    if branch == "refs/heads/main":
        if record is None:
            return [f"main:models/{model}/ has no record models/{model}.yaml"]
        newest = max(live_versions(record), default=None)
        return [] if live and version == newest else [f"main:models/{model}/ is v{version}, not the newest live"]
    if settled and not live:
        why = "has no record" if record is None else f"has v{version} not live"
        return [f"{branch}:models/{model}/ is left over: {model} {why} on main"]
    return []


def _stage_branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/stages/").split()


def _check_version_tree(repo: Path, spec: str, model: str, version: int) -> list[str]:
    raw = _blob(repo, f"{spec}/{MANIFEST}")
    if not raw:
        return [f"{spec}: no {MANIFEST} (a half-written version?)"]
    try:
        manifest = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        return [f"{spec}/{MANIFEST}: unreadable ({exc})"]
    problems = []
    if manifest.get("name") != model or manifest.get("version") != version:
        problems.append(f"{spec}: manifest names {manifest.get('name')} v{manifest.get('version')}")
    for a in manifest.get("artifacts") or []:
        data = _blob(repo, f"{spec}/{a['path']}")
        if hashlib.sha256(data).hexdigest() != a["sha256"] or len(data) != a["size"]:
            problems.append(f"{spec}/{a['path']}: content differs from the manifest's sha256")
    return problems


def worktree_problems(work_tree: Path) -> list[str]:
    """A registry's work tree must be clean and show main's head."""
    status = git(work_tree, "status", "--porcelain", "--untracked-files=all")
    problems = [f"work tree not clean: {line}" for line in status.splitlines()]
    head = git(work_tree, "rev-parse", "HEAD")
    main = git(work_tree, "rev-parse", "refs/heads/main")
    if head != main:
        problems.append(f"HEAD {head!r} is not main {main!r}")
    return problems
