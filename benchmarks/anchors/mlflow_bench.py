"""MLflow 3 with a sqlite backend in a temporary directory: the anchor for
registration, CLI start, loading and stage resolution, and artifact storage.

Usage: PYTHON mlflow_bench.py WORKDIR RUNS [RF_PICKLE_DIR]
"""

from __future__ import annotations

import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import cold, dir_bytes, emit, progress, seed_model, warm

PREDICT = (
    "import sys, numpy as np, mlflow.pyfunc; "
    "m = mlflow.pyfunc.load_model(sys.argv[1]); print(m.predict(np.array([[1.0], [2.0], [3.0]])))"
)
REQS = ["scikit-learn", "cloudpickle"]
# gitreg stores cloudpickle; MLflow 3's default (skops) refuses RandomForests without a trust list
FORMAT = "cloudpickle"


def main(work: str, runs: int, rf_dir: str | None) -> None:
    warnings.filterwarnings("ignore")
    import logging

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    uri = f"sqlite:///{work}/mlflow.db"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    exp = mlflow.create_experiment("bench", artifact_location=f"{work}/artifacts")
    mlflow.set_experiment(experiment_id=exp)
    client = MlflowClient()
    model = seed_model()

    progress("mlflow: log_model(..., registered_model_name=, pip_requirements=) warm")

    def log() -> str:
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(
                model, name="model", registered_model_name="LR", pip_requirements=REQS, serialization_format=FORMAT
            )
        return info.model_uri

    emit(
        "mlflow",
        "log_model(..., registered_model_name=), warm",
        "10 versions",
        warm(log, runs * 2),
        note="log_model(..., registered_model_name=, pip_requirements=): saves and registers",
    )
    source = log()
    run_id = mlflow.search_runs(experiment_ids=[exp], max_results=1, output_format="list")[0].info.run_id
    progress("mlflow: create_model_version / register_model warm")
    emit(
        "mlflow",
        "create_model_version (metadata only), warm",
        "",
        warm(lambda: client.create_model_version("LR", source=source, run_id=run_id), runs * 3),
    )
    emit(
        "mlflow",
        "register_model (metadata only), warm",
        "",
        warm(lambda: mlflow.register_model(source, "LR"), runs * 3),
    )
    progress("mlflow: CLI start")
    emit("mlflow", "CLI --help (cold)", "", cold([sys.executable, "-m", "mlflow", "--help"], runs))
    progress("mlflow: load + predict in a fresh process")
    emit(
        "mlflow",
        "load models:/M/1 + predict (fresh process)",
        "",
        cold([sys.executable, "-c", PREDICT, "models:/LR/1"], runs),
    )
    progress("mlflow: warm load_model")
    emit(
        "mlflow",
        "load_model(models:/M/1), cached (warm)",
        "",
        warm(lambda: mlflow.pyfunc.load_model("models:/LR/1"), runs * 3),
    )
    progress("mlflow: resolve Production")
    client.transition_model_version_stage("LR", 1, "Production")
    emit(
        "mlflow",
        "resolve models:/M/Production (warm)",
        "10 versions",
        warm(lambda: client.get_latest_versions("LR", stages=["Production"]), runs * 3, inner=10),
    )
    if rf_dir:
        import cloudpickle

        progress("mlflow: storage of 10 RandomForest versions")
        before = dir_bytes(f"{work}/artifacts")
        for name in sorted(os.listdir(rf_dir)):
            with open(os.path.join(rf_dir, name), "rb") as fh:
                rf = cloudpickle.load(fh)
            with mlflow.start_run():
                mlflow.sklearn.log_model(
                    rf, name="model", registered_model_name="RF", pip_requirements=REQS, serialization_format=FORMAT
                )
        emit(
            "mlflow",
            "storage: 10 retrained RandomForest versions",
            "",
            [dir_bytes(f"{work}/artifacts") - before],
            unit="bytes",
            note="MLflow artifact store bytes (model.pkl as pickled, plus MLmodel and env files)",
        )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
