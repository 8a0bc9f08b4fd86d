"""gitreg's side of the benchmark: every operation of issues 2 and 6, in this process
(warm) or as fresh ``python -m gitreg`` processes (cold)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks import build
from benchmarks.timing import Result, cold, progress, warm

PREDICT = (
    "import sys, numpy as np, gitreg.pyfunc; "
    "m = gitreg.pyfunc.load_model(sys.argv[1]); print(m.predict(np.array([[1.0], [2.0], [3.0]])))"
)


BARE_PREDICT = (
    "import sys, cloudpickle, numpy as np; "
    "m = cloudpickle.load(open(sys.argv[1], 'rb')); print(m.predict(np.array([[1.0], [2.0], [3.0]])))"
)


def _quiet(fn):  # register_model prints MLflow's messages on stderr
    def call():
        with contextlib.redirect_stderr(io.StringIO()):
            return fn()

    return call


class GitregBench:
    def __init__(self, work: Path, runs: int, sizes: list[int], only: set[str] | None) -> None:
        import gitreg.sklearn
        from gitreg import package, testing

        self.work, self.runs, self.sizes, self.only = work, runs, sizes, only
        self.results: list[Result] = []
        self.saved = work / "seed-model"
        gitreg.sklearn.save_model(testing.seed_model(), self.saved)
        self.package = package.from_directory(self.saved)
        self.outside = work / "outside"  # a cwd in no git repository
        self.outside.mkdir()
        self.inside = work / "training-repo"  # a cwd inside a git repository (provenance is recorded)
        self.inside.mkdir()
        for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "training code"]):
            subprocess.run(["git", "-C", str(self.inside), *args], check=True)
        self.registries: dict[int, Path] = {}

    def wanted(self, group: str) -> bool:
        return not self.only or group in self.only

    def add(self, op: str, size: str, samples: list[float], note: str = "", unit: str = "s") -> Result:
        r = Result("gitreg", op, size, samples, unit, note)
        self.results.append(r)
        return r

    def cli(self, *args: str, registry: Path | None = None) -> list[str]:
        return [sys.executable, "-m", "gitreg", *(["-r", str(registry)] if registry else []), *args]

    # -- building ---------------------------------------------------------------

    def registry(self, versions: int) -> Path:
        if versions not in self.registries:
            import time

            progress(f"building a gitreg registry of {versions:,} versions over {build.shape(versions)[0]} models")
            start = time.perf_counter()
            path = self.work / f"registry-{versions}"
            build.build_gitreg(path, self.package, versions).close()
            took = time.perf_counter() - start
            self.add("build registry (register_many + stage moves), not a target", f"{versions:,} versions", [took])
            progress(f"  built in {took:.1f} s")
            self.registries[versions] = path
        return self.registries[versions]

    # -- operations ---------------------------------------------------------------

    def run(self) -> list[Result]:
        if self.wanted("register"):
            self.register()
        if self.wanted("cli"):
            self.cli_start()
        if self.wanted("reads"):
            self.reads()
        if self.wanted("resolve"):
            self.resolve()
        if self.wanted("load"):
            self.load()
        if self.wanted("models"):
            self.models_json()
        if self.wanted("storage"):
            self.storage_unchanged()
        return self.results

    def register(self) -> None:
        """register_model of the seed model, warm, at 10 and 10,000 existing versions; work tree
        vs bare registry and cwd outside vs inside a git repository reported separately."""
        import gitreg
        from gitreg.locate import open_registry
        from gitreg.registry import Registry

        medians = {}
        for versions in (10, max(self.sizes)):
            cases = [("work tree", False, self.outside), ("bare", True, self.outside)]
            if versions == 10:
                cases += [("work tree", False, self.inside), ("bare", True, self.inside)]
            for kind, bare, cwd in cases:
                where = "cwd in a git repo" if cwd == self.inside else "cwd outside git"
                progress(f"register (warm) at {versions:,} versions: {kind} registry, {where}")
                path = self.work / f"reg-{versions}-{kind.replace(' ', '')}-{cwd.name}"
                if versions <= 10:
                    reg = Registry.init(path, bare=bare)
                    reg.register_many(build_items(self.package, versions))
                    reg.close()
                else:
                    build.build_gitreg(path, self.package, versions, bare=bare, stages=False).close()
                old = os.getcwd()
                os.chdir(cwd)
                try:
                    reg = open_registry(path)
                    samples = warm(
                        _quiet(lambda r=reg: gitreg.register_model(str(self.saved), build.TARGET, registry=r)),
                        self.runs * 5,
                    )
                finally:
                    os.chdir(old)
                headline = kind == "work tree" and cwd == self.outside
                op = "register seed model, warm" + ("" if headline else f" ({kind} registry, {where})")
                note = "Python API, work-tree registry (gitreg init), cwd outside any git repo" if headline else ""
                r = self.add(op, f"{versions:,} versions", samples, note=note if versions == 10 else "")
                old = os.getcwd()
                os.chdir(cwd)
                try:
                    count = git_processes_in_process(
                        _quiet(lambda r=reg: gitreg.register_model(str(self.saved), build.TARGET, registry=r)),
                        self.work,
                    )
                finally:
                    os.chdir(old)
                self.add(
                    f"git processes: register ({kind} registry, {where})",
                    f"{versions:,} versions",
                    [count],
                    unit="count",
                )
                medians[(versions, kind, where)] = r.median
        progress("log_model(..., registered_model_name=) (warm), as MLflow's log_model")
        import gitreg.sklearn
        from gitreg import testing

        model = testing.seed_model()
        reg = Registry.init(self.work / "reg-log-model")
        reg.register_many(build_items(self.package, 10))

        def log() -> object:
            with gitreg.start_run():  # one run per call, as each MLflow call below starts one
                return gitreg.sklearn.log_model(model, "model", registered_model_name=build.TARGET, registry=reg)

        old = os.getcwd()
        os.chdir(self.outside)
        try:
            self.add(
                "log_model(..., registered_model_name=), warm",
                "10 versions",
                warm(_quiet(log), self.runs * 3),
                note="saves the model into a run, then registers it (work-tree registry)",
            )
        finally:
            os.chdir(old)
        for kind in ("work tree", "bare"):
            a = medians.get((10, kind, "cwd outside git"))
            b = medians.get((max(self.sizes), kind, "cwd outside git"))
            if a and b:
                self.add(
                    f"register ratio: at {max(self.sizes):,} / at 10 versions, {kind} registry (target < 1.5)",
                    "",
                    [b / a],
                    unit="x",
                )

    def cli_start(self) -> None:
        progress("gitreg --help (cold)")
        self.add("CLI --help (cold)", "", cold(self.cli("--help"), self.runs))
        self.add("floor: fresh python doing nothing", "", cold([sys.executable, "-c", "pass"], self.runs))
        self.add("floor: fresh python importing click", "", cold([sys.executable, "-c", "import click"], self.runs))
        reg = self.registry(min(self.sizes))
        progress("gitreg models (cold)")
        self.add(
            "gitreg models (cold)", f"{min(self.sizes):,} versions", cold(self.cli("models", registry=reg), self.runs)
        )

    def reads(self) -> None:
        for versions in self.sizes:
            reg = self.registry(versions)
            size = f"{versions:,} versions"
            progress(f"CLI reads and promote at {versions:,} versions")
            self.add(
                "gitreg versions M (cold)", size, cold(self.cli("versions", build.TARGET, registry=reg), self.runs)
            )
            self.add(
                "gitreg show models:/M/Production (cold)",
                size,
                cold(self.cli("show", f"models:/{build.TARGET}/Production", registry=reg), self.runs),
            )
            self.add("gitreg history M (cold)", size, cold(self.cli("history", build.TARGET, registry=reg), self.runs))
            # alternate two versions so every run really moves the stage
            flip = iter([str(1 + (i % 2)) for i in range(self.runs + 1)])
            samples = []
            for _ in range(self.runs + 1):
                v = next(flip)
                samples += cold(self.cli("promote", build.TARGET, v, "production", registry=reg), 1, warmup=False)
            self.add("gitreg promote M N production (cold)", size, samples[1:])
            for label, args in (
                ("versions M", ["versions", build.TARGET]),
                ("show models:/M/Production", ["show", f"models:/{build.TARGET}/Production"]),
                ("history M", ["history", build.TARGET]),
                ("promote M N production", ["promote", build.TARGET, "3", "production"]),
                ("models", ["models"]),
            ):
                count = git_processes(self.cli(*args, registry=reg), self.work)
                self.add(f"git processes: gitreg {label}", size, [count], unit="count")

    def resolve(self) -> None:
        from gitreg import uri
        from gitreg.locate import open_registry

        for versions in (min(self.sizes), max(self.sizes)):
            progress(f"resolve models:/M/Production (warm) at {versions:,} versions")
            reg = open_registry(self.registry(versions))
            parsed = uri.parse(f"models:/{build.TARGET}/Production")
            self.add(
                "resolve models:/M/Production (warm)",
                f"{versions:,} versions",
                warm(lambda r=reg, u=parsed: r.resolve(u), self.runs * 3, inner=50),
            )

    def load(self) -> None:
        import cloudpickle

        import gitreg.pyfunc
        from gitreg.locate import open_registry

        path = self.registry(min(self.sizes))
        uri = f"models:/{build.TARGET}/1"
        reg = open_registry(path)
        model = gitreg.pyfunc.load_model(uri, registry=reg)
        pkl = Path(model.metadata.path) / "model.pkl"
        progress("load + predict in a fresh process")
        env = {"GITREG_REGISTRY": str(path)}
        self.add(
            "load models:/M/1 + predict (fresh process)",
            "",
            cold([sys.executable, "-c", PREDICT, uri], self.runs, env=env),
        )
        self.add(
            "floor: fresh python, cloudpickle.load of model.pkl + predict",
            "",
            cold([sys.executable, "-c", BARE_PREDICT, str(pkl)], self.runs),
        )
        progress("warm load_model of a cached version vs cloudpickle.load")

        def bare_load() -> object:
            with open(pkl, "rb") as fh:
                return cloudpickle.load(fh)

        a = self.add(
            "load_model(models:/M/1), cached (warm)",
            "",
            warm(lambda: gitreg.pyfunc.load_model(uri, registry=reg), self.runs * 3, inner=20),
        )
        b = self.add("cloudpickle.load of the same model.pkl (warm)", "", warm(bare_load, self.runs * 3, inner=20))
        self.add("load_model minus cloudpickle.load (target < 2 ms)", "", [a.median - b.median])

    def models_json(self) -> None:
        from gitreg.registry import NewVersion, Registry

        progress("gitreg models --json with 1,000 models")
        path = self.work / "registry-1000-models"
        reg = Registry.init(path)
        reg.register_many(NewVersion(f"Model{i:04d}", self.package) for i in range(1000))
        reg.close()
        self.add(
            "gitreg models --json (cold)", "1,000 models", cold(self.cli("models", "--json", registry=path), self.runs)
        )

    def storage_unchanged(self) -> None:
        import gitreg
        from gitreg.registry import Registry

        progress("storage: the unchanged seed model registered 10 more times")
        path = self.work / "registry-storage"
        reg = Registry.init(path, bare=True)
        with contextlib.redirect_stderr(io.StringIO()):
            gitreg.register_model(str(self.saved), "Seed", registry=reg)
            before = repo_bytes(path)
            for _ in range(10):
                gitreg.register_model(str(self.saved), "Seed", registry=reg)
        after = repo_bytes(path)
        self.add(
            "storage: 10 more registrations of an unchanged model, after git gc (target < 10 KB)",
            "",
            [after - before],
            unit="bytes",
        )


def _shim(work: Path) -> Path:
    shim_dir = work / "git-shim"
    log = shim_dir / "calls.log"
    if not shim_dir.exists():
        shim_dir.mkdir()
        real = shutil.which("git")
        (shim_dir / "git").write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n')
        (shim_dir / "git").chmod(0o755)
    log.write_text("")
    return shim_dir


def git_processes(argv: list[str], work: Path, env: dict[str, str] | None = None) -> int:
    """How many git processes ``argv`` starts: a ``git`` shim first on PATH logs each one."""
    shim_dir = _shim(work)
    path = f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    subprocess.run(argv, env={**os.environ, **(env or {}), "PATH": path}, capture_output=True, check=True)
    return len((shim_dir / "calls.log").read_text().splitlines())


def git_processes_in_process(fn: Callable[[], object], work: Path) -> int:
    """How many git processes one call of ``fn`` starts in this (warm) process."""
    shim_dir = _shim(work)
    old = os.environ["PATH"]
    os.environ["PATH"] = f"{shim_dir}{os.pathsep}{old}"
    try:
        fn()
    finally:
        os.environ["PATH"] = old
    return len((shim_dir / "calls.log").read_text().splitlines())


def build_items(package, versions):  # type: ignore[no-untyped-def]
    from gitreg.registry import NewVersion

    models, per_model = build.shape(versions)
    names = build.model_names(models)
    return [NewVersion(n, package) for _ in range(per_model) for n in names]


def repo_bytes(path: Path) -> int:
    """Bytes the repository's objects take after ``git gc`` (packs plus any loose objects)."""
    subprocess.run(["git", "-C", str(path), "gc", "-q", "--prune=now"], check=True, capture_output=True)
    out = subprocess.run(["git", "-C", str(path), "count-objects", "-v"], check=True, capture_output=True, text=True)
    kv = dict(line.split(": ") for line in out.stdout.splitlines())
    return (int(kv["size"]) + int(kv["size-pack"])) * 1024


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="gitreg-bench-"))
