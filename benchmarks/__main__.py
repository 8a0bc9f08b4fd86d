"""``python -m benchmarks [--quick] [--only NAME...] [--runs N]``

Builds registries of 10 to 10,000 versions, times gitreg's operations from
issues 2 and 6, runs MLflow and GTO side by side when a python with them is
given (or the current one has them), and prints a table of medians with min
and max and gitreg/anchor ratios. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import big, build
from benchmarks.gitreg_bench import GitregBench, new_workdir, repo_bytes
from benchmarks.timing import Result, progress, table

GROUPS = (
    "register",
    "cli",
    "reads",
    "resolve",
    "load",
    "models",
    "storage",
    "rf",
    "mlflow",
    "gto",
    "big",
    "remote",
    "contention",
)
OPT_IN = {"big", "remote", "contention"}  # minutes and gigabytes each: run only when named with --only
ANCHORS = Path(__file__).parent / "anchors"
GTO_CAP = 1000  # GTO needs seconds per command per 1,000 tags; building and reading more takes far too long
ORDER = [
    "register seed model, warm",
    "register seed model, warm (bare registry, cwd outside git)",
    "register seed model, warm (work tree registry, cwd in a git repo)",
    "register seed model, warm (bare registry, cwd in a git repo)",
    "register ratio: at 10,000 / at 10 versions, work tree registry (target < 1.5)",
    "register ratio: at 10,000 / at 10 versions, bare registry (target < 1.5)",
    "log_model(..., registered_model_name=), warm",
    "create_model_version (metadata only), warm",
    "register_model (metadata only), warm",
    "CLI --help (cold)",
    "floor: fresh python doing nothing",
    "floor: fresh python importing click",
    "gitreg models (cold)",
    "gitreg versions M (cold)",
    "gitreg show models:/M/Production (cold)",
    "gitreg history M (cold)",
    "gitreg promote M N production (cold)",
    "resolve models:/M/Production (warm)",
    "load models:/M/1 + predict (fresh process)",
    "floor: fresh python, cloudpickle.load of model.pkl + predict",
    "load_model(models:/M/1), cached (warm)",
    "cloudpickle.load of the same model.pkl (warm)",
    "load_model minus cloudpickle.load (target < 2 ms)",
    "gitreg models --json (cold)",
    "storage: 10 more registrations of an unchanged model, after git gc (target < 10 KB)",
    "storage: 10 retrained RandomForest versions",
    "git processes: register (work tree registry, cwd outside git)",
    "git processes: register (bare registry, cwd outside git)",
    "git processes: register (work tree registry, cwd in a git repo)",
    "git processes: register (bare registry, cwd in a git repo)",
    "git processes: gitreg versions M",
    "git processes: gitreg show models:/M/Production",
    "git processes: gitreg history M",
    "git processes: gitreg promote M N production",
    "git processes: gitreg models",
    "build registry (register_many + stage moves), not a target",
]


def has(python: str, module: str) -> bool:
    proc = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
    return proc.returncode == 0


def run_anchor(argv: list[str]) -> list[Result]:
    """Run an anchor script: its stdout is JSON lines; of its stderr only our
    progress lines are shown (the anchors' own warnings are noise), and the
    tail of it if the script fails."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    for line in err.splitlines():
        if line.startswith("[") and "]   " in line:
            print(line, file=sys.stderr)
    results = [Result.from_dict(json.loads(line)) for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-15:])
        progress(
            f"anchor {Path(argv[1]).name} failed (exit {proc.returncode}); its remaining rows are missing:\n{tail}"
        )
    return results


def train_forests(directory: Path, quick: bool) -> None:
    """10 retrained RandomForests (200 trees on 10k rows x 20 features; --quick: 20 trees on 2k rows)."""
    import cloudpickle
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    directory.mkdir(parents=True)
    rows, trees = (2_000, 20) if quick else (10_000, 200)
    X, y = make_classification(n_samples=rows, n_features=20, random_state=0)
    for i in range(10):
        progress(f"  training RandomForest {i + 1}/10 ({trees} trees, {rows:,} x 20)")
        rf = RandomForestClassifier(n_estimators=trees, random_state=i, n_jobs=2).fit(X, y)
        with open(directory / f"rf-{i:02d}.pkl", "wb") as fh:
            cloudpickle.dump(rf, fh)


def gitreg_forests(work: Path, pickles: Path) -> Result:
    import contextlib
    import io

    import gitreg
    from gitreg.registry import Registry

    path = work / "registry-rf"
    reg = Registry.init(path, bare=True)
    before = repo_bytes(path)
    with contextlib.redirect_stderr(io.StringIO()):
        for pkl in sorted(pickles.iterdir()):
            gitreg.register_model(str(pkl), "RF", registry=reg)
    return Result(
        "gitreg",
        "storage: 10 retrained RandomForest versions",
        "",
        [repo_bytes(path) - before],
        "bytes",
        "gitreg repository growth after git gc",
    )


def merged(files: list[str]) -> list[Result]:
    """The samples of several runs pooled per (tool, operation, size)."""
    pooled: dict[tuple[str, str, str], Result] = {}
    for f in files:
        for d in json.loads(Path(f).read_text()):
            r = Result.from_dict(d)
            key = (r.tool, r.op, r.size)
            if key in pooled:
                pooled[key].samples.extend(r.samples)
            else:
                pooled[key] = r
    return list(pooled.values())


def opt_in_groups(only: set[str], args: argparse.Namespace, runs: int) -> list[Result]:
    """The groups that take minutes and gigabytes: big artifacts (rows in this table) and
    remote reads (a partial-clone baseline beside each figure) and writers through one remote
    (1, 8 and 32), each printing its own table as it ends."""
    results: list[Result] = []
    if "big" in only:
        progress("big artifacts (benchmarks/big.py)")
        mlflow_python = args.mlflow_python if has(args.mlflow_python, "mlflow") else None
        results += big.run(100 if args.quick else 300, 95, runs, mlflow_python)
    if "remote" in only:
        progress("remote reads (benchmarks/remote.py)")
        sizes = ["10", "100"] if args.quick else ["10", "100", "500"]
        subprocess.run([sys.executable, "-m", "benchmarks.remote", "--sizes", *sizes], check=True)
    if "contention" in only:
        progress("writers through one remote (benchmarks/contention.py)")
        subprocess.run([sys.executable, "-m", "benchmarks.contention", "--runs", str(runs)], check=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="sizes 10 and 100, 3 runs, small forests")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=GROUPS,
        metavar="NAME",
        help=f"groups: {', '.join(GROUPS)} ({', '.join(sorted(OPT_IN))} only when named here)",
    )
    parser.add_argument("--runs", type=int, default=None, help="samples per operation (default 5, --quick 3)")
    parser.add_argument("--mlflow-python", default=sys.executable, help="python that has mlflow (default: this one)")
    parser.add_argument("--gto-python", default=sys.executable, help="python that has gto (default: this one)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--json", metavar="FILE", help="also write every sample to FILE")
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="FILE",
        help="measure nothing: print one table of the samples of several --json runs",
    )
    args = parser.parse_args()
    if args.merge:
        print(f"# gitreg benchmarks: samples of {len(args.merge)} runs pooled, medians (min-max)\n")
        print(table(merged(args.merge), ORDER))
        return
    runs = args.runs or (3 if args.quick else 5)
    sizes = [10, 100] if args.quick else [10, 100, 1_000, 10_000]
    only = set(args.only) if args.only else None

    from gitreg import testing

    work = new_workdir()
    os.environ.update({k: v for k, v in testing.isolated_env(work / "env").items() if v})
    os.environ.pop("GITREG_REGISTRY", None)
    progress(f"working in {work}; {runs} runs per operation; sizes {sizes}")
    started = time.time()
    results: list[Result] = []
    try:
        bench = GitregBench(work, runs, sizes, only & set(GROUPS[:7]) if only else None)
        if not only or only & set(GROUPS[:7]):
            results += bench.run()
        pickles = work / "forests"
        if not only or "rf" in only:
            progress("storage: training 10 RandomForests")
            train_forests(pickles, args.quick)
            progress("storage: registering them with gitreg")
            results.append(gitreg_forests(work, pickles))
        if not only or "mlflow" in only:
            if has(args.mlflow_python, "mlflow"):
                progress(f"MLflow anchor ({args.mlflow_python})")
                argv = [args.mlflow_python, str(ANCHORS / "mlflow_bench.py"), str(work / "mlflow-work"), str(runs)]
                (work / "mlflow-work").mkdir()
                results += run_anchor([*argv, *([str(pickles)] if pickles.exists() else [])])
            else:
                progress(f"MLflow is not importable in {args.mlflow_python}: gitreg alone (see --mlflow-python)")
        if not only or "gto" in only:
            if has(args.gto_python, "gto"):
                gto_sizes = [s for s in sizes if s <= GTO_CAP]
                repos = []
                for s in gto_sizes:
                    progress(f"building a GTO repository with {s:,} version tags (git fast-import)")
                    build.build_gto(work / f"gto-{s}", s)
                    repos.append(f"{s}={work / f'gto-{s}'}")
                progress(f"GTO anchor ({args.gto_python}), capped at {GTO_CAP:,} versions")
                results += run_anchor([args.gto_python, str(ANCHORS / "gto_bench.py"), str(runs), *repos])
            else:
                progress(f"GTO is not importable in {args.gto_python}: gitreg alone (see --gto-python)")
        results += opt_in_groups(only or set(), args, runs)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    took = time.time() - started
    print(f"# gitreg benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        f"# {platform.platform()}, {os.cpu_count()} cores, python {platform.python_version()}, "
        f"{runs} runs per operation, {took / 60:.1f} min"
    )
    print(f"# medians (min-max); GTO capped at {GTO_CAP:,} versions\n")
    print(table(results, ORDER + big.ORDER))
    if args.json:
        Path(args.json).write_text(json.dumps([r.to_dict() for r in results], indent=1))


if __name__ == "__main__":
    main()
