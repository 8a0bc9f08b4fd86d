"""GTO on git repositories with N version tags: register, show, history,
assign and stage resolution, plus CLI start.

Usage: PYTHON gto_bench.py RUNS SIZE=REPO [SIZE=REPO ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import cold, emit, progress, warm

MODEL = "M000"


def gto_cli(*args: str) -> list[str]:
    return [os.path.join(os.path.dirname(sys.executable), "gto"), *args]


def main(runs: int, repos: list[tuple[int, str]]) -> None:
    import gto.api

    progress("gto: CLI start")
    emit("gto", "CLI --help (cold)", "", cold(gto_cli("--help"), runs))
    env = {
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "b@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "b@example.com",
    }
    os.environ.update(env)
    for versions, repo in repos:
        size = f"{versions:,} versions"
        progress(f"gto: reads at {size}")
        emit("gto", "gitreg versions M (cold)", size, cold(gto_cli("show", MODEL, "-r", repo), runs), note="gto show M")
        emit(
            "gto",
            "gitreg show models:/M/Production (cold)",
            size,
            cold(gto_cli("show", f"{MODEL}#production", "-r", repo), runs),
            note="gto show M#production",
        )
        emit("gto", "gitreg history M (cold)", size, cold(gto_cli("history", MODEL, "-r", repo), runs))
        flip = iter([f"v0.0.{i % 9 + 1}" for i in range(runs + 1)])  # GTO refuses a version it assigned before
        samples = []
        for _ in range(runs + 1):
            samples += cold(
                gto_cli("assign", MODEL, "--version", next(flip), "--stage", "production", "-r", repo), 1, warmup=False
            )
        emit("gto", "gitreg promote M N production (cold)", size, samples[1:], note="gto assign")
        progress(f"gto: API register (warm) at {size}")

        def new_commit(repo: str = repo) -> None:
            subprocess.run(["git", "-C", repo, "commit", "-q", "--allow-empty", "-m", "retrain"], check=True)

        samples = []
        for _ in range(runs + 1):
            new_commit()
            start = time.perf_counter()
            gto.api.register(repo, MODEL, ref="HEAD")
            samples.append(time.perf_counter() - start)
        emit("gto", "register seed model, warm", size, samples[1:], note="gto.api.register: a tag, no model files")
        progress(f"gto: resolve stage (API, warm) at {size}")
        emit(
            "gto",
            "resolve models:/M/Production (warm)",
            size,
            warm(lambda r=repo: gto.api.find_versions_in_stage(r, MODEL, "production"), max(3, runs)),
        )


if __name__ == "__main__":
    pairs = [a.split("=", 1) for a in sys.argv[2:]]
    main(int(sys.argv[1]), [(int(n), p) for n, p in pairs])
