"""Shared by the anchor scripts (standalone: no gitreg imports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence


def emit(tool: str, op: str, size: str, samples: list[float], unit: str = "s", note: str = "") -> None:
    print(
        json.dumps({"tool": tool, "op": op, "size": size, "samples": samples, "unit": unit, "note": note}), flush=True
    )


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]   {message}", file=sys.stderr, flush=True)


def warm(
    fn: Callable[[], object], runs: int, *, inner: int = 1, setup: Callable[[], object] | None = None
) -> list[float]:
    fn()
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
    before: Callable[[], object] | None = None,
    warmup: bool = True,
) -> list[float]:
    full = {**os.environ, **(env or {})}
    samples = []
    for i in range(runs + 1 if warmup else runs):
        if before is not None:
            before()
        start = time.perf_counter()
        proc = subprocess.run(argv, env=full, cwd=cwd, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.strip()[-800:]}")
        if i or not warmup:
            samples.append(elapsed)
    return samples


def seed_model():  # type: ignore[no-untyped-def]
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    X = np.array([-2, -1, 0, 1, 2, 1]).reshape(-1, 1)
    y = np.array([0, 0, 1, 1, 1, 0])
    return LogisticRegression().fit(X, y)


def dir_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total
