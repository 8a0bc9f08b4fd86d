"""``python -m benchmarks.remote [--sizes 10 100 500] [--artifact-mb 2] [--models N] [--dated] [--tuned-server]``

What a reader of a registry named by URL fetches to load one version, cold
(empty cache, no mirror), at several registry sizes, beside the plain-git
baseline ``git clone --filter=blob:none --no-checkout`` + ``git checkout
<tag> -- models/<name>`` of the same version. Each version holds its own
incompressible artifact, so a reader that fetched other versions' blobs would
show it at once.

Bytes fetched are the bytes the received packs take in the mirror's (or the
clone's) ``objects`` directory: git keeps what a promisor remote sends as the
packs it received. Round trips are the packs (one per fetch). Targets (issue
"A shared registry whose cost does not grow with its history"): gitreg at most
1.5x the baseline, and gitreg at the largest size at most 1.3x gitreg at the
smallest. A second table splits what each reader received by object type
(``git verify-pack -v``: bytes as stored in the received packs), which shows
where the growth goes.

``register_many`` dates every commit of a build in the same second, and then
the origin's ``git repack`` walks the history in tag-name order (all commits
tie on date) and finds almost no deltas between the ``models/`` trees of
neighbouring commits. ``--dated`` builds the origin as a registry made over
time is made: each registration's clock one second after the previous one.
``--tuned-server`` repacks it as docs/scale.md recommends for the repository a
registry is served from (:data:`TUNED_REPACK`: a wider delta window, and no
delta search on big blobs).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks import build
from benchmarks.gitreg_bench import new_workdir
from benchmarks.timing import progress

_LOAD = """
import sys, time
from gitreg import locate
from gitreg.pyfunc import materialized
from gitreg.uri import parse
start = time.perf_counter()
reg = locate.open_registry(sys.argv[1])
materialized(parse(sys.argv[2]), reg)
print(time.perf_counter() - start)
print(reg.store.git_dir)
"""


#: git config for the origin's repack with --tuned-server (see docs/scale.md, "Where a cold read's bytes go")
TUNED_REPACK = ("pack.window=50", "core.bigFileThreshold=1m")


def objects_bytes(git_dir: Path) -> tuple[int, int]:
    """(bytes, packs) of the packs under ``git_dir/objects``: what was received
    (their indexes and .promisor notes are made locally, loose objects there are none)."""
    packs = list((git_dir / "objects" / "pack").glob("*.pack"))
    return sum(p.stat().st_size for p in packs), len(packs)


def pack_breakdown(git_dir: Path) -> dict[str, int]:
    """Bytes of the packs under ``git_dir/objects`` per object type (commit, tag, tree, blob),
    as stored: what was received, split by what it is."""
    by_type = dict.fromkeys(("commit", "tag", "tree", "blob"), 0)
    for idx in (git_dir / "objects" / "pack").glob("*.idx"):
        out = subprocess.run(["git", "verify-pack", "-v", str(idx)], capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 5 and parts[1] in by_type:
                by_type[parts[1]] += int(parts[3])
    return by_type


@contextlib.contextmanager
def dated_clock(step: float = 1.0) -> Iterator[None]:
    """Inside the block, every ``time.time()`` is ``step`` seconds after the previous one,
    starting four months ago: commits made in a loop get the distinct, increasing dates of a
    registry built over time (the build is otherwise unchanged)."""
    real = time.time
    start = real() - 10_000_000
    ticks = itertools.count()
    time.time = lambda: start + next(ticks) * step
    try:
        yield
    finally:
        time.time = real


def build_origin(
    path: Path,
    versions: int,
    artifact_bytes: int,
    scratch: Path,
    models: int | None,
    repack: bool,
    dated: bool = False,
    tuned: bool = False,
) -> tuple[str, int]:
    """A bare registry (made as ``gitreg init --bare`` makes one) of ``versions``
    versions over ``models`` models (default: up to 100, as the main benchmarks
    spread them), each version with its own random artifact; ``repack``: then
    ``git repack -adf``, as a forge's housekeeping leaves a repository
    (``register_many`` writes one pack without deltas, which ``upload-pack``
    sends as it is); ``dated``: under :func:`dated_clock`; ``tuned``: that repack
    with :data:`TUNED_REPACK`. Returns the model measured and its last version."""
    with dated_clock() if dated else contextlib.nullcontext():
        name, last = _build(path, versions, artifact_bytes, scratch, models)
    if repack:
        config = [arg for c in TUNED_REPACK for arg in ("-c", c)] if tuned else []
        subprocess.run(["git", f"--git-dir={path}", *config, "repack", "-adfq"], check=True)
    return name, last


def _build(path: Path, versions: int, artifact_bytes: int, scratch: Path, models: int | None) -> tuple[str, int]:
    from gitreg.registry import NewVersion, Package, Registry

    models, per_model = (models, versions // models) if models else build.shape(versions)
    names = build.model_names(models)
    reg = Registry.init(path, bare=True)
    items = []
    for v in range(per_model):
        for name in names:
            root = scratch / f"{name}-{v}"
            root.mkdir(parents=True)
            (root / "weights.bin").write_bytes(os.urandom(artifact_bytes))
            (root / "MLmodel").write_text(f"flavors:\n  python_function: {{}}\nversion: {v}\n")
            items.append(
                NewVersion(name, Package(root=root, files=("weights.bin", "MLmodel"), flavor="python_function"))
            )
    reg.register_many(items)
    build.promote_all(reg, names, per_model)
    reg.close()
    shutil.rmtree(scratch)
    return names[0], per_model


def gitreg_cold_load(url: str, uri: str, cache: Path) -> dict[str, float]:
    env = {**os.environ, "GITREG_CACHE_DIR": str(cache), "GITREG_NO_PROGRESS": "1"}
    out = subprocess.run([sys.executable, "-c", _LOAD, url, uri], env=env, capture_output=True, text=True, check=True)
    took, mirror = out.stdout.split()
    size, packs = objects_bytes(Path(mirror))
    return {"bytes": size, "fetches": packs, "seconds": float(took), **pack_breakdown(Path(mirror))}


def baseline(url: str, tag: str, name: str, into: Path) -> dict[str, float]:
    start = time.perf_counter()
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", "--no-checkout", url, str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "-q", tag, "--", f"models/{name}"], check=True)
    took = time.perf_counter() - start
    size, packs = objects_bytes(into / ".git")
    return {"bytes": size, "fetches": packs, "seconds": took, **pack_breakdown(into / ".git")}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.remote", description=__doc__.split("\n\n")[1])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10, 100, 500])
    parser.add_argument("--artifact-mb", type=float, default=2.0, help="artifact size per version (default 2 MB)")
    parser.add_argument("--models", type=int, help="spread the versions over this many models (default: up to 100)")
    parser.add_argument("--no-repack", action="store_true", help="serve the origin as register_many packed it")
    parser.add_argument("--dated", action="store_true", help="date the origin's commits one second apart")
    parser.add_argument("--tuned-server", action="store_true", help="repack the origin with " + " ".join(TUNED_REPACK))
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()

    from gitreg import testing

    work = new_workdir()
    os.environ.update({k: v for k, v in testing.isolated_env(work / "env").items() if v})
    os.environ.pop("GITREG_REGISTRY", None)
    artifact = int(args.artifact_mb * 1_000_000)
    rows = []
    try:
        for n in args.sizes:
            progress(f"building a bare registry of {n:,} versions with {artifact:,}-byte artifacts")
            origin = work / f"origin-{n}.git"
            scratch, repack = work / f"scratch-{n}", not args.no_repack
            name, last = build_origin(origin, n, artifact, scratch, args.models, repack, args.dated, args.tuned_server)
            url = f"file://{origin}"
            progress(f"  cold load of models:/{name}/{last} through a partial mirror")
            ours = gitreg_cold_load(url, f"models:/{name}/{last}", work / f"cache-{n}")
            progress("  baseline: git clone --filter=blob:none --no-checkout + checkout of the version")
            base = baseline(url, f"{name}/v{last}", name, work / f"clone-{n}")
            rows.append({"versions": n, "gitreg": ours, "baseline": base})
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            progress(f"kept {work}")
    smallest = rows[0]["gitreg"]["bytes"]
    shape = f"{args.models} model(s)" if args.models else "up to 100 models"
    shape += ", commits dated apart" if args.dated else ""
    shape += ", origin repacked with " + " ".join(TUNED_REPACK) if args.tuned_server else ""
    print(f"# cold load of one version: pack bytes fetched; {shape}, {artifact:,}-byte artifact per version\n")
    print(
        "| versions | gitreg bytes | fetches | baseline bytes | fetches | gitreg/baseline | gitreg/gitreg at smallest |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        g, b = r["gitreg"], r["baseline"]
        print(
            f"| {r['versions']:,} | {int(g['bytes']):,} | {int(g['fetches'])} | {int(b['bytes']):,} | "
            f"{int(b['fetches'])} | {g['bytes'] / b['bytes']:.3f} | {g['bytes'] / smallest:.3f} |"
        )
    print_breakdown(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


def print_breakdown(rows: list[dict[str, object]]) -> None:
    """What each reader received, by object type, and the seconds its cold load took."""
    print("\n# what was received, bytes by object type (as stored in the received packs)\n")
    print("| versions | reader | commits | tags | trees | blobs | seconds |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        for reader in ("gitreg", "baseline"):
            f = r[reader]
            assert isinstance(f, dict)
            print(
                f"| {r['versions']:,} | {reader} | {f['commit']:,} | {f['tag']:,} | {f['tree']:,} | "
                f"{f['blob']:,} | {f['seconds']:.2f} |"
            )


if __name__ == "__main__":
    main()
