"""Measuring: repeated samples of a call or a command, and the table they make."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class Result:
    """Samples of one operation at one size by one tool (seconds, or bytes when ``unit`` says so)."""

    tool: str  # "gitreg", "mlflow" or "gto"
    op: str
    size: str = ""
    samples: list[float] = field(default_factory=list)
    unit: str = "s"  # "s" or "bytes"
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def to_dict(self) -> dict[str, object]:
        return {
            "tool": self.tool,
            "op": self.op,
            "size": self.size,
            "samples": self.samples,
            "unit": self.unit,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Result:
        return cls(**d)  # type: ignore[arg-type]


def progress(message: str) -> None:
    """Progress goes to stderr so stdout stays the table."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def warm(
    fn: Callable[[], object], runs: int, *, inner: int = 1, setup: Callable[[], object] | None = None
) -> list[float]:
    """Seconds per call of ``fn`` in this process: ``runs`` samples, each the
    mean of ``inner`` back-to-back calls (for calls far below a millisecond)."""
    fn()  # first call warms caches and the git reader process
    samples = []
    for _ in range(runs):
        if setup is not None:
            setup()
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return samples


def cold(
    argv: Sequence[str],
    runs: int,
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    check: bool = True,
    before: Callable[[], object] | None = None,
    warmup: bool = True,
) -> list[float]:
    """Wall-clock seconds of a fresh process running ``argv``, ``runs`` times
    (after one unmeasured run that warms the OS file cache).

    With bytecode, as an installed package has it (pip compiles at install
    time): an environment that turns bytecode writing off
    (``PYTHONDONTWRITEBYTECODE``) would have every run compile gitreg, and
    each anchor, from source, and measure the compiler instead."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("PYTHONDONTWRITEBYTECODE", None)
    samples = []
    for i in range(runs + 1 if warmup else runs):
        if before is not None:
            before()
        start = time.perf_counter()
        proc = subprocess.run(argv, env=full_env, cwd=cwd, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
        if i or not warmup:
            samples.append(elapsed)
    return samples


def _fmt(value: float, unit: str) -> str:
    if unit == "count":
        return f"{value:.0f}"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "bytes":
        for scale, suffix in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
            if abs(value) >= scale:
                return f"{value / scale:.1f} {suffix}"
        return f"{value:.0f} B"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 0.001:
        return f"{value * 1000:.1f} ms"
    return f"{value * 1e6:.0f} µs"


def cell(r: Result | None) -> str:
    if r is None or not r.samples:
        return "-"
    if len(r.samples) == 1:
        return _fmt(r.samples[0], r.unit)
    return f"{_fmt(r.median, r.unit)} ({_fmt(min(r.samples), r.unit)}-{_fmt(max(r.samples), r.unit)})"


def table(results: Sequence[Result], order: Sequence[str]) -> str:
    """Markdown table: one row per (operation, size), gitreg and each anchor
    side by side with medians (min-max), and gitreg/anchor ratios."""
    tools = [t for t in ("gitreg", "mlflow", "gto") if any(r.tool == t for r in results)]
    rows: dict[tuple[str, str], dict[str, Result]] = {}
    for r in results:
        rows.setdefault((r.op, r.size), {})[r.tool] = r
    keys = sorted(rows, key=lambda k: (order.index(k[0]) if k[0] in order else len(order), _size_key(k[1])))
    head = ["operation", "size", *tools, *(f"gitreg/{t}" for t in tools if t != "gitreg")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in keys:
        got = rows[key]
        cells = [key[0], key[1] or "-", *(cell(got.get(t)) for t in tools)]
        for t in tools:
            if t == "gitreg":
                continue
            a, b = got.get("gitreg"), got.get(t)
            ok = a and b and a.samples and b.samples and b.median
            cells.append(f"{a.median / b.median:.3g}" if ok else "-")  # type: ignore[union-attr]
        lines.append("| " + " | ".join(cells) + " |")
    notes = list(dict.fromkeys(f"- {r.tool}, {r.op}: {r.note}" for r in results if r.note))
    return "\n".join([*lines, *(["", *notes] if notes else [])])


def _size_key(size: str) -> tuple[int, str]:
    digits = "".join(c for c in size if c.isdigit())
    return (int(digits) if digits else -1, size)
