"""MLflow's own client on the gitreg registry store against MLflow's own sqlite registry.

``PYTHONPATH=. python -m benchmarks.mlflow_store [--runs N]`` (needs gitreg's ``mlflow``
extra in the same Python). One tracking store (sqlite) and two registries in one run:
``sqlite:///…`` (MLflow's SqlAlchemyStore, the anchor) and ``gitreg:///…`` (the plugin).
Each sample of an operation is taken on both, alternately, so load on the machine drifts
over both alike. Progress on stderr; a table of medians (min-max) and the
gitreg/mlflow ratio on stdout (below 1: gitreg is faster).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from benchmarks.timing import Result, progress, table

PREDICT = (
    "import sys, numpy as np, mlflow.pyfunc; "
    "m = mlflow.pyfunc.load_model(sys.argv[1]); print(m.predict(np.array([[1.0], [2.0], [3.0]])))"
)
ORDER = [
    "log_model(..., registered_model_name=), warm",
    "mlflow.register_model(models:/m-...), warm",
    "mlflow.pyfunc.load_model(models:/M/1), warm",
    "load models:/M/1 + predict (fresh process)",
]


def main(runs: int, keep: bool) -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    work = Path(tempfile.mkdtemp(prefix="gitreg-mlflow-store-"))
    _isolate(work)
    import mlflow
    import mlflow.pyfunc
    import mlflow.sklearn

    from gitreg.registry import Registry
    from gitreg.testing import seed_model

    tracking = f"sqlite:///{work}/mlflow.db"
    registries = {"mlflow": tracking, "gitreg": f"gitreg://{Registry.init(work / 'registry').path}"}
    os.environ["MLFLOW_TRACKING_URI"] = tracking
    mlflow.set_tracking_uri(tracking)
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("bench", artifact_location=f"{work}/artifacts"))
    model = seed_model()

    def log() -> str:
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(
                model, name="model", registered_model_name="LR", pip_requirements=["scikit-learn", "cloudpickle"],
                serialization_format="cloudpickle",
            )  # fmt: skip
        return str(info.model_uri)

    results = [Result(tool, op) for op in ORDER for tool in registries]

    def sample(op: str, fn: Callable[[], object]) -> None:
        for tool, uri in registries.items():
            mlflow.set_registry_uri(uri)
            start = time.perf_counter()
            fn()
            next(r for r in results if r.tool == tool and r.op == op).samples.append(time.perf_counter() - start)

    for uri in registries.values():  # warm both: the first call of each imports and migrates
        mlflow.set_registry_uri(uri)
        logged = log()
        mlflow.register_model(logged, "LR")
        mlflow.pyfunc.load_model("models:/LR/1")
    for i in range(runs):
        progress(f"round {i + 1}/{runs}")
        sample(ORDER[0], log)
        sample(ORDER[1], lambda: mlflow.register_model(logged, "LR"))
        sample(ORDER[2], lambda: mlflow.pyfunc.load_model("models:/LR/1"))
    progress("fresh processes")
    for tool, uri in registries.items():
        env = {**os.environ, "MLFLOW_REGISTRY_URI": uri}
        next(r for r in results if r.tool == tool and r.op == ORDER[3]).samples = _cold(env, runs)
    print(table(results, ORDER))
    print(f"\n{runs} samples per cell; work directory {work}{' (kept)' if keep else ''}")
    if not keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def _cold(env: dict[str, str], runs: int) -> list[float]:
    from benchmarks.timing import cold

    return cold([sys.executable, "-c", PREDICT, "models:/LR/1"], runs, env=env)


def _isolate(work: Path) -> None:
    """An isolated HOME, git configuration and gitreg cache, as the test suite uses."""
    from gitreg.testing import isolated_env

    for k, v in isolated_env(work / "env").items():
        if v:
            os.environ[k] = v
        else:
            os.environ.pop(k, None)
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"  # no network here: both sides would wait on it alike
    os.chdir(work)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="samples per operation and registry (default 7)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    main(args.runs, args.keep)
