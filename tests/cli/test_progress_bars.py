"""Progress bars for a person at a terminal, nothing for anyone else: a real
``gitreg register`` of a big artifact draws one line on a pseudo-terminal's
stderr, rewritten with \\r and blanked at the end; through a pipe, with -q
or with --json it prints no progress at all."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from gitreg.cli.progress import MIN_BYTES, TerminalProgress, line
from gitreg.store import progress
from gitreg.testing import run_cli

BIG = 3 * MIN_BYTES


@pytest.fixture
def big_model(tmp_path: Path) -> Path:
    """A saved model directory with one incompressible artifact of BIG bytes."""
    model = tmp_path / "big-model"
    model.mkdir()
    (model / "MLmodel").write_text("flavors:\n  python_function:\n    loader_module: gitreg.pyfunc\n")
    (model / "weights.bin").write_bytes(os.urandom(BIG))
    return model


def _run_on_a_terminal(args: list[str]) -> tuple[int, str, bytes]:
    """Run ``gitreg ARGS`` with stderr on a pseudo-terminal; (exit code, stdout, what the terminal got)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitreg", *args], stdout=subprocess.PIPE, stderr=follower, env={**os.environ}
    )
    os.close(follower)
    seen = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            raise AssertionError(f"no output for 60 s; so far: {bytes(seen)!r}")
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    out = proc.stdout.read().decode() if proc.stdout else ""
    return proc.wait(timeout=60), out, bytes(seen)


def test_register_draws_progress_on_a_terminal_and_clears_it(tmp_path: Path, big_model: Path) -> None:
    reg = tmp_path / "reg"
    assert run_cli("init", str(reg)).returncode == 0
    code, out, terminal = _run_on_a_terminal(["-r", str(reg), "register", "Big", str(big_model)])
    assert code == 0, terminal
    assert out.startswith("Created version '1' of model 'Big'")
    assert b"writing weights.bin [" in terminal
    assert b"%  " in terminal and b" MB" in terminal and terminal.count(b"\r") >= 3
    last = terminal.rsplit(b"\r", 2)
    assert last[-1] == b"" and last[-2].strip() == b"", f"the last line was not blanked: {terminal[-200:]!r}"


@pytest.mark.parametrize("extra", [[], ["-q"], ["--json"]], ids=["pipe", "quiet", "json"])
def test_register_prints_no_progress_without_a_terminal_or_when_asked_not_to(
    tmp_path: Path, big_model: Path, extra: list[str]
) -> None:
    reg = tmp_path / "reg"
    assert run_cli("init", str(reg)).returncode == 0
    group, command = (extra, []) if extra == ["-q"] else ([], extra)
    out = run_cli(*group, "-r", str(reg), "register", "Big", str(big_model), *command)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""


def test_quiet_and_json_draw_nothing_even_on_a_terminal(tmp_path: Path, big_model: Path) -> None:
    reg = tmp_path / "reg"
    assert run_cli("init", str(reg)).returncode == 0
    for args in (
        ["-q", "-r", str(reg), "register", "Big", str(big_model)],
        ["-r", str(reg), "register", "Big", str(big_model), "--json"],
    ):
        code, _, terminal = _run_on_a_terminal(args)
        assert code == 0, terminal
        assert b"writing" not in terminal and b"\r" not in terminal


def test_the_renderer_throttles_redraws_and_skips_small_tasks() -> None:
    now = [0.0]
    stream = io.StringIO()
    draw = TerminalProgress(stream, clock=lambda: now[0])
    draw(progress.Update(progress.HASH, "small.bin", 1, MIN_BYTES - 1))
    assert stream.getvalue() == ""
    for done in range(1, 11):  # ten updates within one interval: one redraw
        draw(progress.Update(progress.HASH, "big.bin", done << 20, BIG))
    assert stream.getvalue().count("\r") == 1
    now[0] = 1.0
    draw(progress.Update(progress.HASH, "big.bin", BIG, BIG))
    assert stream.getvalue().count("\r") == 2 and "100%" in stream.getvalue()
    draw(progress.Update(progress.HASH, "big.bin", BIG, BIG, finished=True))
    assert stream.getvalue().endswith(
        "\r" + " " * len(line(progress.Update(progress.HASH, "big.bin", BIG, BIG), 1.0, 200)) + "\r"
    )


def test_a_progress_line_fits_the_terminal() -> None:
    update = progress.Update(progress.MATERIALISE, "x" * 300, 50 << 20, 100 << 20)
    assert len(line(update, 0.5, 79)) == 79
    assert line(progress.Update(progress.FETCH, "origin", 3_000_000, None), 1.0, 200) == "fetching origin  3 MB  3 MB/s"
