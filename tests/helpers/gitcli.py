"""Plain ``git``, run the way a user would, for tests to build states and to
check what git itself sees: one home for the helper every test file used to
copy (issue #11).

It does not go through gitreg's store on purpose, so a bug in the store
cannot hide itself from a test. ``env`` adds variables to the environment
the test already runs in (the isolated HOME and git config of conftest).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

__all__ = ["git", "refs", "run_git"]


def run_git(
    repo: Path | str, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``git -C repo *args`` with text output, whatever its exit status: for
    tests that assert on a refusal (``returncode``, ``stderr``)."""
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **env} if env is not None else None,
        check=False,
    )


def git(
    repo: Path | str,
    *args: str,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> str:
    """git's stdout, unstripped. A failure fails the test with git's stderr in
    the message, unless ``check`` is False (then stdout is returned as is)."""
    proc = run_git(repo, *args, input=input, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} in {repo} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def refs(repo: Path | str, *patterns: str) -> str:
    """Every ref (or those ``patterns`` select) and the object it names, one
    ``<refname> <oid>`` a line in git's order: the listing a refusal's test
    compares before and after to show the registry was left unchanged."""
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)", *patterns)
