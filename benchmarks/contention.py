"""``python -m benchmarks.contention [--runs 3] [--seconds 20] [--writers 1 8 32] [--mirrors 4]``

Writers through one remote: how many versions per second processes
registering to one bare registry by ``file://`` URL land in total, for 1, 8
and 32 writer processes (32 share 4 mirror directories, 8 per mirror; fewer
writers each have their own mirror). Every writer registers versions of the
same model, each with its own small artifact, as fast as it can for a fixed
time after a common start; a version counts when its call returned within
that time (the calls still running then must succeed too, and are checked). The
anchor is one writer in the same run: the target (issue "A shared registry
whose cost does not grow with its history", section 4) is a ratio of at
least 1.0 for 8 and for 32 writers, with every call succeeding and the
versions gap-free and unique (checked after each run).

Each figure is the median of ``--runs`` runs, each on a fresh registry.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.gitreg_bench import new_workdir
from benchmarks.timing import progress

MODEL = "Shared"

_WRITER = """
import json, sys, time
from pathlib import Path
from gitreg.locate import open_registry
from gitreg.registry import Package

url, work, tag = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
reg = open_registry(url)
reg.version_numbers("Shared")  # the mirror exists and is fresh before the clock starts
(work / f"ready-{tag}").touch()
while not (work / "go").exists():
    time.sleep(0.01)
start, stop = map(float, (work / "go").read_text().split())
while time.time() < start:
    time.sleep(0.005)
done, failed, i = [], 0, 0
while time.time() < stop:
    root = work / f"{tag}-{i}"
    root.mkdir(parents=True)
    (root / "model.bin").write_bytes(f"{tag} {i} ".encode() * 64)
    try:
        done.append((reg.register("Shared", Package(root, ("model.bin",), "python_function")).version, time.time()))
    except Exception as exc:
        failed += 1
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    i += 1
print(json.dumps({"done": done, "failed": failed}))
"""


def _start(work: Path, procs: list[subprocess.Popen[str]], seconds: float) -> tuple[float, float]:
    """Once every writer has opened its mirror, the common start and stop times."""
    while len(list(work.glob("ready-*"))) < len(procs):
        gone = [p for p in procs if p.poll() is not None]
        if gone:
            raise SystemExit(f"a writer exited before starting:\n{gone[0].communicate()[1][-2000:]}")
        time.sleep(0.05)
    start = time.time() + 0.5
    (work / "go.tmp").write_text(f"{start} {start + seconds}")
    (work / "go.tmp").rename(work / "go")
    return start, start + seconds


def one_run(work: Path, writers: int, mirrors: int, seconds: float) -> dict[str, float]:
    """One measurement on a fresh bare registry: versions/s in total, calls failed, and the version check."""
    from gitreg.registry import Package, Registry

    origin = work / "origin.git"
    reg = Registry.init(origin, bare=True)
    seed = work / "seed"
    seed.mkdir()
    (seed / "model.bin").write_bytes(b"seed")
    reg.register(MODEL, Package(seed, ("model.bin",), "python_function"))
    reg.close()
    url = f"file://{origin}"
    pkgs = work / "pkgs"
    pkgs.mkdir()
    procs = []
    for i in range(writers):
        env = {**os.environ, "GITREG_CACHE_DIR": str(work / f"cache-{i % mirrors}"), "GITREG_NO_PROGRESS": "1"}
        argv = [sys.executable, "-c", _WRITER, url, str(pkgs), f"w{i}"]
        procs.append(
            subprocess.Popen(argv, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
    _, stop = _start(pkgs, procs, seconds)
    landed: list[tuple[int, float]] = []
    failed = 0
    for p in procs:
        out, err = p.communicate(timeout=seconds + 300)
        if p.returncode != 0:
            raise SystemExit(f"a writer failed (exit {p.returncode}):\n{err[-2000:]}")
        got = json.loads(out.strip().splitlines()[-1])
        if got["failed"]:
            progress(f"  a writer's failed calls:\n{err.strip()[-2000:]}")
        landed += [(int(v), float(t)) for v, t in got["done"]]
        failed += int(got["failed"])
    versions = sorted(v for v, _ in landed)
    check = Registry.open(origin)
    numbers = check.version_numbers(MODEL)
    check.close()
    gap_free = versions == list(range(2, len(versions) + 2)) and numbers == list(range(1, len(versions) + 2))
    return {
        "per_second": sum(1 for _, t in landed if t <= stop) / seconds,
        "versions": len(versions),
        "failed": failed,
        "gap_free": float(gap_free),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.contention", description=__doc__.split("\n\n")[1])
    parser.add_argument("--runs", type=int, default=3, help="runs per writer count (default 3; the median is shown)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the writers register (default 20)")
    parser.add_argument("--writers", nargs="+", type=int, default=[1, 8, 32])
    parser.add_argument("--mirrors", type=int, default=4, help="mirror directories for 32 writers (default 4)")
    parser.add_argument("--json", metavar="FILE", help="also write every run to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()

    from gitreg import testing

    work = new_workdir()
    os.environ.update({k: v for k, v in testing.isolated_env(work / "env").items() if v})
    os.environ.pop("GITREG_REGISTRY", None)
    runs: dict[int, list[dict[str, float]]] = {}
    try:
        for r in range(args.runs):
            for n in args.writers:  # interleaved, so a noisy minute hits every writer count alike
                mirrors = args.mirrors if n >= 32 else n
                progress(f"run {r + 1}/{args.runs}: {n} writer(s) over {mirrors} mirror(s) for {args.seconds:g} s")
                here = work / f"run-{r}-{n}"
                here.mkdir()
                got = one_run(here, n, mirrors, args.seconds)
                progress(
                    f"  {got['per_second']:.2f} versions/s, {got['failed']:.0f} failed, "
                    f"gap-free {bool(got['gap_free'])}"
                )
                runs.setdefault(n, []).append(got)
                shutil.rmtree(here, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(g["per_second"] for g in runs[args.writers[0]])
    print(f"# writers through one file:// remote, {args.seconds:g} s per run, medians of {args.runs} runs\n")
    print("| writers | mirrors | versions/s (min-max) | ratio to 1 writer | failed calls | gap-free |")
    print("|---|---|---|---|---|---|")
    for n, samples in runs.items():
        rates = [g["per_second"] for g in samples]
        med = statistics.median(rates)
        print(
            f"| {n} | {args.mirrors if n >= 32 else n} | {med:.2f} ({min(rates):.2f}-{max(rates):.2f}) | "
            f"{med / base:.2f} | {sum(int(g['failed']) for g in samples)} | {all(g['gap_free'] for g in samples)} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({str(n): samples for n, samples in runs.items()}, indent=1))


if __name__ == "__main__":
    main()
