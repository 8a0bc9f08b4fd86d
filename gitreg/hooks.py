"""gitreg as a git server's gatekeeper: the pre-receive hook that refuses pushes breaking the registry's rules.

``gitreg hook install --pre-receive REPO`` writes ``REPO/hooks/pre-receive``,
a two-line script that runs ``gitreg hook pre-receive`` with the Python that
installed it (so the server needs gitreg installed, not on ``PATH``). git
runs it once per push, after the objects arrived (in quarantine) and before
any ref moves; a non-zero exit refuses the whole push and what it printed
reaches the pusher as ``remote:`` lines. What is refused is
:func:`gitreg.check.check_push`'s: moved or deleted version tags, main
deleted or rewritten, and any state the check reports that the current state
does not, judged by the policy of ``main`` before the push.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gitreg.check import Finding, PushedRef, check_push
from gitreg.errors import AlreadyExistsError
from gitreg.store import GitStore

MARKER = "# installed by gitreg hook install --pre-receive"


def pre_receive_script(python: str, *, allow_overrides: bool = False) -> str:
    flag = " --allow-overrides" if allow_overrides else ""
    quoted = "'" + python.replace("'", "'\\''") + "'"
    return f'#!/bin/sh\n{MARKER}\nexec {quoted} -m gitreg --registry "$(pwd)" hook pre-receive{flag}\n'


def install_pre_receive(
    repo: str | os.PathLike[str], *, allow_overrides: bool = False, force: bool = False, python: str | None = None
) -> Path:
    """Install the pre-receive hook into the repository at ``repo`` (bare or not); returns its path.

    An existing hook that gitreg did not install is kept (:class:`AlreadyExistsError`) unless ``force``."""
    store = GitStore.open(Path(repo))
    try:
        hooks = store.git_dir / "hooks"
        hook = hooks / "pre-receive"
        if hook.exists() and not force and MARKER not in hook.read_text(errors="replace"):
            raise AlreadyExistsError(
                f"{hook} exists and was not installed by gitreg; call it from a hook of your own "
                "('gitreg hook pre-receive' reads git's stdin), or pass --force to replace it."
            )
        hooks.mkdir(exist_ok=True)
        hook.write_text(pre_receive_script(python or sys.executable, allow_overrides=allow_overrides))
        hook.chmod(0o755)
        return hook
    finally:
        store.close()


def run_pre_receive(
    git_dir: Path, stdin_text: str, quarantine: str | None, *, allow_overrides: bool = False
) -> list[Finding]:
    """The findings of the push git describes on ``stdin_text`` ("old new ref" lines) to the
    repository ``git_dir``, whose new objects are in ``quarantine`` (``GIT_QUARANTINE_PATH``)."""
    pushed = [PushedRef.parse(line) for line in stdin_text.splitlines() if line.strip()]
    store = GitStore.open(git_dir)
    try:
        objects = [Path(quarantine)] if quarantine else []
        return check_push(store, pushed, objects=objects, allow_overrides=allow_overrides)
    finally:
        store.close()
