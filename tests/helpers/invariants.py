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

MANIFEST = "gitreg.yaml"


def git(repo: Path, *args: str, check: bool = True, text: bool = True) -> str | bytes:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=text, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def _tree(repo: Path, spec: str) -> str | None:
    proc = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", spec], capture_output=True)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def fsck_problems(repo: Path) -> list[str]:
    """``git fsck --strict`` errors; dangling objects are fine (a killed writer leaves some)."""
    proc = subprocess.run(
        ["git", "-C", str(repo), "fsck", "--strict", "--no-dangling", "--no-progress"],
        capture_output=True,
        text=True,
    )
    lines = [x for x in (proc.stdout + proc.stderr).splitlines() if x.strip() and not x.startswith("dangling")]
    return [] if proc.returncode == 0 and not lines else [f"git fsck --strict: {x}" for x in lines or ["failed"]]


def check_registry(repo: Path, *, fsck: bool = True, recent: int | None = None) -> list[str]:
    """Every broken invariant, as a sentence; an empty list means the registry is sound.

    With ``recent`` only each model's newest ``recent`` tags are checked in
    depth (tags are immutable: older ones were checked when they were new)."""
    problems = fsck_problems(repo) if fsck else []
    main = _tree(repo, "refs/heads/main^{commit}")
    if main is None:
        return [*problems, "refs/heads/main does not resolve to a commit"]
    tags: dict[str, dict[int, str]] = {}
    listing = git(repo, "for-each-ref", "--format=%(refname)%00%(objecttype)%00%(*objecttype)", "refs/tags/")
    assert isinstance(listing, str)
    for line in listing.splitlines():
        ref, kind, peeled = line.split("\0")
        model, _, v = ref[len("refs/tags/") :].rpartition("/v")
        if kind != "tag" or peeled != "commit":
            problems.append(f"{ref} is not an annotated tag of a commit ({kind}/{peeled})")
            continue
        tags.setdefault(model, {})[int(v)] = ref
    for model, versions in sorted(tags.items()):
        record_raw = git(repo, "cat-file", "blob", f"refs/heads/main:models/{model}.yaml", check=False)
        record = yaml.safe_load(record_raw) if record_raw else None
        if record is not None:
            # a tag at or past next_version is a registration in flight or killed
            # before main moved: not a version, replaced by the next registration
            leftovers = [v for v in versions if v >= record.get("next_version", 0)]
        else:  # no record: a deleted model's tags stay as history; only the newest may be a leftover
            newest = max(versions)
            reachable = subprocess.run(
                ["git", "-C", str(repo), "merge-base", "--is-ancestor", f"refs/tags/{model}/v{newest}^{{commit}}", main]
            )
            leftovers = [newest] if reachable.returncode != 0 else []
        if leftovers:
            if len(leftovers) > 1:
                problems.append(f"{model}: more than one tag past next_version: {leftovers}")
            versions = {v: ref for v, ref in versions.items() if v not in leftovers}
        if not versions:
            continue
        for v, ref in sorted(versions.items())[-(recent or len(versions)) :]:
            commit = _tree(repo, f"{ref}^{{commit}}")
            if commit is None:
                problems.append(f"{ref}: its commit is missing")
                continue
            ancestor = subprocess.run(["git", "-C", str(repo), "merge-base", "--is-ancestor", commit, main])
            if ancestor.returncode != 0:
                problems.append(f"{ref}: commit {commit[:12]} is not reachable from main")
            problems += _check_version_tree(repo, f"{ref}^{{commit}}:models/{model}", model, v)
        if record is None:
            continue  # deleted model: its tags stay as history
        if record.get("next_version") != max(versions) + 1:
            problems.append(f"models/{model}.yaml: next_version {record.get('next_version')} after v{max(versions)}")
    for branch in ["refs/heads/main", *_stage_branches(repo)]:
        models = git(repo, "ls-tree", "--name-only", f"{branch}:models", check=False)
        assert isinstance(models, str)
        for entry in models.splitlines():
            if entry.endswith(".yaml"):
                continue
            subtree = _tree(repo, f"{branch}:models/{entry}")
            raw = git(repo, "cat-file", "blob", f"{branch}:models/{entry}/{MANIFEST}", check=False)
            if not raw:
                problems.append(f"{branch}:models/{entry}/ has no {MANIFEST}")
                continue
            version = yaml.safe_load(raw).get("version")
            tag_tree = _tree(repo, f"refs/tags/{entry}/v{version}^{{commit}}:models/{entry}")
            if subtree != tag_tree:
                problems.append(f"{branch}:models/{entry}/ claims v{version} but differs from its tag")
    return problems


def _stage_branches(repo: Path) -> list[str]:
    out = git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/stages/")
    assert isinstance(out, str)
    return out.split()


def _check_version_tree(repo: Path, spec: str, model: str, version: int) -> list[str]:
    raw = git(repo, "cat-file", "blob", f"{spec}/{MANIFEST}", check=False)
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
        data = git(repo, "cat-file", "blob", f"{spec}/{a['path']}", check=False, text=False)
        assert isinstance(data, bytes)
        if hashlib.sha256(data).hexdigest() != a["sha256"] or len(data) != a["size"]:
            problems.append(f"{spec}/{a['path']}: content differs from the manifest's sha256")
    return problems


def worktree_problems(work_tree: Path) -> list[str]:
    """A registry's work tree must be clean and show main's head."""
    status = git(work_tree, "status", "--porcelain", "--untracked-files=all")
    assert isinstance(status, str)
    problems = [f"work tree not clean: {line}" for line in status.splitlines()]
    head = git(work_tree, "rev-parse", "HEAD")
    main = git(work_tree, "rev-parse", "refs/heads/main")
    if head != main:
        problems.append(f"HEAD {head!r} is not main {main!r}")
    return problems
