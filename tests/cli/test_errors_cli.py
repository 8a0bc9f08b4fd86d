"""The CLI ends with one actionable line, never "This is a bug in gitreg",
when the world (not gitreg) stops it: a reader that went away, a storage
error raised as a plain OSError."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gitreg.registry import Registry
from gitreg.testing import file_package

GITREG = str(Path(sys.executable).with_name("gitreg"))


@pytest.fixture
def populated(tmp_path: Path) -> Registry:
    reg = Registry.init(tmp_path / "registry")
    for n in range(3):
        reg.register("M", file_package(tmp_path / f"p{n}", {"data.bin": f"v{n}"}))
    reg.register("Other", file_package(tmp_path / "o", {"data.bin": "o"}))
    reg.promote("M", 2, "Production")
    return reg


def _into_closed_pipe(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Run ``gitreg ARGS`` with stdout a pipe whose reader has already gone:
    the first write fails with EPIPE, deterministically (``| head -1`` only
    does once the output outgrows the pipe's buffer)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([GITREG, *args], stdout=write, stderr=subprocess.PIPE, env=env, timeout=60)
    finally:
        os.close(write)


@pytest.mark.parametrize(
    "args",
    [["models"], ["models", "--json"], ["versions", "M"], ["versions", "M", "--json"], ["history", "M"], ["show", "M"]],
    ids=" ".join,
)
def test_output_into_a_closed_pipe_dies_of_sigpipe_silently_like_git(
    populated: Registry, env: dict[str, str], args: list[str]
) -> None:
    before = populated.store.git("for-each-ref").decode()
    proc = _into_closed_pipe(["-r", str(populated.path), *args], env)
    assert proc.returncode == -signal.SIGPIPE
    assert proc.stderr == b""
    assert populated.store.git("for-each-ref").decode() == before


def test_a_reader_that_stops_early_gets_its_line_and_the_shell_sees_what_git_gives(
    populated: Registry, env: dict[str, str]
) -> None:
    gitreg = f"{GITREG} -r {populated.path}"
    script = (
        f"set -o pipefail; {gitreg} versions M | head -1; echo head=$?; "
        f"{gitreg} versions M --json | true; echo true=$?"  # true exits before gitreg starts writing
    )
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert proc.stderr == ""
    first, head, true = proc.stdout.splitlines()
    assert first.split() == ["VERSION", "STAGES", "METRICS", "CREATED", "AUTHOR", "COMMIT"]
    assert head in ("head=0", "head=141")  # 0 when the whole output fit in the pipe before head left
    assert true == "true=141"  # what `git log | true` gives under pipefail


def test_a_plain_oserror_of_the_storage_kind_is_one_line_not_a_bug_report(tmp_path: Path, env: dict[str, str]) -> None:
    # registering into a path whose parent is a file: ENOTDIR is not storage; a name
    # longer than the file system allows is, and it reaches the CLI as a plain OSError
    long_name = tmp_path / ("x" * 300)
    proc = subprocess.run([GITREG, "init", str(long_name)], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert "This is a bug" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: ")
    assert "too long" in proc.stderr.lower()
