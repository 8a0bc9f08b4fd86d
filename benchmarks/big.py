"""``python -m benchmarks.big [--mb 300] [--plain-mb 95] [--runs 3] [--mlflow-python PY | --no-mlflow]``

One big incompressible artifact (a PythonModel holding ``--mb`` random
bytes, pickled), registered and loaded, beside the anchors measured in the
same run: ``cp`` + ``sha256sum`` of the same file for registering,
``cloudpickle.load`` of the same file for loading, and MLflow's
``mlflow.pyfunc.log_model`` / ``load_model`` of the same model (sqlite
backend). Every figure is the median (min-max) of ``--runs`` runs, after one
unmeasured run that warms the OS file cache; peak RSS is that of the
largest process of the run (gitreg and every git process it starts).

From 100 MB up an artifact always goes to Git LFS (git hosts refuse larger
plain blobs), so the plain-blob path is measured with a ``--plain-mb``
artifact in registries without an LFS threshold. Targets (issue 13,
section 3): CLI registration within 1.5x of cp + sha256sum and under
100 MB peak RSS; a cached load_model within 1.2x of a bare cloudpickle.load.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.timing import Result, progress, table

MODEL = """
import os, sys
import gitreg.pyfunc as pf

class Blob(pf.PythonModel):
    def __init__(self, data):
        self.data = data
    def predict(self, context, model_input, params=None):
        return [len(self.data)]

pf.save_model(sys.argv[1], Blob(os.urandom(int(sys.argv[2]))))
"""

LOG_MODEL = """
import os, sys
tool, size, where = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if tool == "mlflow":
    import logging, warnings
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import mlflow, mlflow.pyfunc as pf
    mlflow.set_tracking_uri(where)
    base = pf.PythonModel
else:
    import gitreg.pyfunc as pf
    base = pf.PythonModel

class Blob(base):
    def __init__(self, data):
        self.data = data
    def predict(self, context, model_input, params=None):
        return [len(self.data)]

blob = Blob(os.urandom(size))
if tool == "mlflow":
    with mlflow.start_run():
        pf.log_model(name="model", python_model=blob, registered_model_name="Py", pip_requirements=["cloudpickle"])
else:
    pf.log_model("model", python_model=blob, registered_model_name="Py", registry=where)
"""

LOAD = """
import sys
if sys.argv[1] == "mlflow":
    import mlflow, mlflow.pyfunc
    mlflow.set_tracking_uri(sys.argv[3])
    mlflow.pyfunc.load_model(sys.argv[2])
elif sys.argv[1] == "gitreg":
    import gitreg.pyfunc
    gitreg.pyfunc.load_model(sys.argv[2], registry=sys.argv[3])
else:
    import cloudpickle
    with open(sys.argv[2], "rb") as fh:
        cloudpickle.load(fh)
"""

WARM = """
import gc, json, sys, time, cloudpickle, gitreg.pyfunc
uri, registry, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = gitreg.pyfunc.load_model(uri, registry=registry)  # materialised (or checked) once, unmeasured
path = model.metadata.path + "/python_model.pkl"
del model

def ours():
    return gitreg.pyfunc.load_model(uri, registry=registry)

def bare():
    with open(path, "rb") as fh:
        return cloudpickle.load(fh)

times = {"gitreg": [], "bare": []}
for i in range(2 * runs):  # alternating which goes first, each after a collection
    for name, load in ((("gitreg", ours), ("bare", bare)) if i % 2 == 0 else (("bare", bare), ("gitreg", ours))):
        gc.collect()
        start = time.perf_counter()
        got = load()
        times[name].append(time.perf_counter() - start)
        del got
print(json.dumps(times))
"""


def run_child(argv: Sequence[str], *, env: dict[str, str] | None = None) -> tuple[float, int]:
    """(seconds, peak RSS in bytes of the largest process of its tree) of one run of ``argv``."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(argv)} failed: {err.read().decode()[-800:]}")
    return elapsed, usage.ru_maxrss * 1024


def measure(
    op: str,
    size: str,
    argvs: Sequence[Sequence[str]],
    tool: str = "gitreg",
    before: Callable[[], object] | None = None,
) -> list[Result]:
    """Time and peak-RSS rows of running each of ``argvs`` (the first one unmeasured, a warm-up)."""
    times: list[float] = []
    peaks: list[float] = []
    for i, argv in enumerate(argvs):
        if before is not None:
            before()
        elapsed, peak = run_child(argv)
        if i:
            times.append(elapsed)
            peaks.append(peak)
    return [Result(tool, op, size, times), Result(tool, f"peak RSS: {op}", size, peaks, "bytes")]


def gitreg_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "gitreg", *args]


def new_registry(path: Path, *, bare: bool, lfs: bool) -> Path:
    """A registry as ``gitreg init`` makes it; without ``lfs``, its LFS threshold dropped from registry.yaml."""
    subprocess.run(gitreg_cli("init", *(["--bare"] if bare else []), str(path)), check=True, capture_output=True)
    if not lfs:
        work = path if not bare else path.with_name(path.name + "-edit")
        if bare:
            subprocess.run(["git", "clone", "-q", str(path), str(work)], check=True)
        text = (work / "registry.yaml").read_text().splitlines()
        at = next(i for i, line in enumerate(text) if line.startswith("lfs:"))
        kept = text[:at] + [line for line in text[at + 1 :] if not line.startswith(" ")]
        (work / "registry.yaml").write_text("\n".join(kept) + "\n")
        subprocess.run(["git", "-C", str(work), "commit", "-qam", "No LFS threshold"], check=True)
        if bare:
            subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "main"], check=True)
            shutil.rmtree(work)
    return path


def registering(work: Path, model: Path, size: str, runs: int, *, lfs: bool) -> list[Result]:
    """CLI registration into fresh registries (bare and with a work tree) beside cp + sha256sum of the file.

    The three are interleaved, run by run, and what each run wrote is deleted
    before the next, so all three meet the same page cache and the same
    backlog of dirty pages (keeping gigabytes of copies made later runs wait
    for the disk)."""
    pkl, copy = model / "python_model.pkl", work / "copy.bin"
    where = "Git LFS" if lfs else "plain blob, no LFS threshold"
    anchor = "anchor: cp + sha256sum of the file"
    ops = {anchor: None, f"gitreg register (CLI), bare registry, {where}": True}
    ops[f"gitreg register (CLI), work tree registry, {where}"] = False
    samples: dict[str, tuple[list[float], list[float]]] = {op: ([], []) for op in ops}
    for i in range(runs + 1):
        for op, bare in ops.items():
            if bare is None:
                argv, made = ["sh", "-c", f"cp '{pkl}' '{copy}' && sha256sum '{pkl}' >/dev/null"], copy
            else:
                made = new_registry(work / f"reg-{size}-{bare}-{i}", bare=bare, lfs=lfs)
                argv = gitreg_cli("-r", str(made), "register", "Big", str(model))
            elapsed, peak = run_child(argv)
            if i:
                samples[op][0].append(elapsed)
                samples[op][1].append(peak)
            if i == runs and bare is not None:
                subprocess.run(["git", "-C", str(made), "fsck", "--strict", "--no-progress"], check=True)
            if made.is_dir():
                shutil.rmtree(made)
            else:
                made.unlink()
    results = []
    for op, (times, peaks) in samples.items():
        results += [Result("gitreg", op, size, times), Result("gitreg", f"peak RSS: {op}", size, peaks, "bytes")]
    worst = max(results[2].median, results[4].median) / results[0].median
    results.append(Result("gitreg", f"register / cp + sha256sum, worst ({where}; target < 1.5)", size, [worst], "x"))
    return results


def loading(work: Path, model: Path, size: str, runs: int) -> list[Result]:
    """First load (materialise into an empty cache) and cached loads, beside cloudpickle.load of the same file."""
    reg = new_registry(work / "reg-load", bare=True, lfs=True)
    subprocess.run(gitreg_cli("-r", str(reg), "register", "Big", str(model)), check=True, capture_output=True)
    uri, pkl = "models:/Big/1", str(model / "python_model.pkl")
    caches = [work / f"load-cache-{i}" for i in range(runs + 1)]
    results = []
    for i, cache in enumerate(caches):
        elapsed, peak = run_child(
            [sys.executable, "-c", LOAD, "gitreg", uri, str(reg)], env={"GITREG_CACHE_DIR": str(cache)}
        )
        if i:
            results.append((elapsed, peak))
        if i < runs:  # the last one stays, for the cached loads
            shutil.rmtree(cache)
    op = "load_model, first load: materialise into an empty cache (fresh process)"
    rows = [
        Result("gitreg", op, size, [t for t, _ in results]),
        Result("gitreg", f"peak RSS: {op}", size, [p for _, p in results], "bytes"),
    ]
    os.environ["GITREG_CACHE_DIR"] = str(caches[-1])
    rows += measure(
        "load_model, cached (fresh process)", size, [[sys.executable, "-c", LOAD, "gitreg", uri, str(reg)]] * (runs + 1)
    )
    rows += measure(
        "anchor: cloudpickle.load of the same file (fresh process)",
        size,
        [[sys.executable, "-c", LOAD, "bare", pkl]] * (runs + 1),
    )
    out = subprocess.run(
        [sys.executable, "-c", WARM, uri, str(reg), str(runs)], capture_output=True, text=True, check=True
    )
    warm = json.loads(out.stdout)
    ours, bare = (
        Result("gitreg", "load_model, cached (warm process)", size, warm["gitreg"]),
        Result("gitreg", "anchor: cloudpickle.load of the cached file (warm process)", size, warm["bare"]),
    )
    rows += [
        ours,
        bare,
        Result(
            "gitreg",
            "cached load_model / cloudpickle.load, warm (target < 1.2)",
            size,
            [ours.median / bare.median],
            "x",
        ),
    ]
    return rows


def python_paths(work: Path, nbytes: int, size: str, runs: int, mlflow_python: str | None) -> list[Result]:
    """``log_model(..., registered_model_name=)`` of the same model and a fresh load of it, gitreg and MLflow."""
    reg = new_registry(work / "reg-python", bare=True, lfs=True)
    op_log, op_load = (
        "pyfunc.log_model(registered_model_name=) (fresh process)",
        "pyfunc.load_model(models:/Py/1), first load (fresh process)",
    )
    results = measure(op_log, size, [[sys.executable, "-c", LOG_MODEL, "gitreg", str(nbytes), str(reg)]] * (runs + 1))
    caches = [work / f"py-cache-{i}" for i in range(runs + 1)]
    argvs = [[sys.executable, "-c", LOAD, "gitreg", "models:/Py/1", str(reg)] for _ in caches]
    it = iter(caches)
    results += measure(op_load, size, argvs, before=lambda: os.environ.__setitem__("GITREG_CACHE_DIR", str(next(it))))
    if mlflow_python:
        db = f"sqlite:///{work}/mlflow.db"
        env_dir = work / "mlflow-run"
        env_dir.mkdir()
        os.chdir(env_dir)  # mlruns/ artifacts go here
        subprocess.run(
            [mlflow_python, "-c", f"import mlflow; mlflow.set_tracking_uri('{db}'); mlflow.search_experiments()"],
            check=True,
            capture_output=True,
        )
        results += measure(
            op_log, size, [[mlflow_python, "-c", LOG_MODEL, "mlflow", str(nbytes), db]] * (runs + 1), tool="mlflow"
        )
        results += measure(
            op_load, size, [[mlflow_python, "-c", LOAD, "mlflow", "models:/Py/1", db]] * (runs + 1), tool="mlflow"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.big", description=__doc__.split("\n\n")[1])
    parser.add_argument("--mb", type=int, default=300, help="artifact size in MiB (default 300)")
    parser.add_argument("--plain-mb", type=int, default=95, help="size of the plain-blob case in MiB (default 95)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mlflow-python", default=sys.executable, help="python that has mlflow (default: this one)")
    parser.add_argument("--no-mlflow", action="store_true", help="skip the MLflow anchor")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()
    mlflow_python = None if args.no_mlflow else args.mlflow_python
    print(table(run(args.mb, args.plain_mb, args.runs, mlflow_python, keep=args.keep), ORDER))


ORDER: list[str] = []  # rows in the order measured


def run(mb: int, plain_mb: int, runs: int, mlflow_python: str | None, *, keep: bool = False) -> list[Result]:
    """Every row, MLflow's with ``mlflow_python`` (a Python that has it); also for ``python -m benchmarks``."""
    from gitreg import testing

    work = Path(tempfile.mkdtemp(prefix="gitreg-bench-big-"))
    saved = dict(os.environ), os.getcwd()
    os.environ.update({k: v for k, v in testing.isolated_env(work / "env").items() if v})
    os.environ.pop("GITREG_REGISTRY", None)
    results: list[Result] = []
    try:
        for megabytes, lfs in ((mb, True), (plain_mb, False)):
            size, model = f"{megabytes} MiB", work / f"model-{megabytes}"
            progress(f"big: saving a PythonModel of {megabytes} MiB of random bytes")
            subprocess.run([sys.executable, "-c", MODEL, str(model), str(megabytes << 20)], check=True)
            progress(f"big: registering it from the CLI, {runs} runs ({'Git LFS' if lfs else 'plain blob'})")
            results += registering(work, model, size, runs, lfs=lfs)
            if lfs:
                progress("big: loading it")
                results += loading(work, model, size, runs)
        progress(f"big: the Python paths, gitreg{' and MLflow' if mlflow_python else ''}")
        results += python_paths(work, mb << 20, f"{mb} MiB", runs, mlflow_python)
    finally:
        os.chdir(saved[1])
        os.environ.clear()
        os.environ.update(saved[0])
        if keep:
            progress(f"big: kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    ORDER[:] = list(dict.fromkeys(r.op for r in results))
    return results


if __name__ == "__main__":
    main()
