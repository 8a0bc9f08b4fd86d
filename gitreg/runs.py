"""Runs: where ``log_model`` keeps models saved without a registered name.

MLflow keeps such models as run artifacts and registers them later from
``runs:/<run_id>/<path>``. gitreg keeps them in a runs directory next to the
registry (``<git dir>/gitreg-runs``; ``GITREG_RUNS_DIR`` overrides; with no
registry at all, ``./gitreg-runs``) so that the same URI works with
:func:`gitreg.register_model`. A run also collects metrics and params logged
with :func:`log_metric`/:func:`log_param`, which the model's version records.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from gitreg import yamlio
from gitreg.errors import GitregError, InvalidInputError, NotFoundError
from gitreg.manifest import check_metrics, check_params

RUN_FILE = "run.yaml"


def runs_dir() -> Path:
    if os.environ.get("GITREG_RUNS_DIR"):
        return Path(os.environ["GITREG_RUNS_DIR"]).expanduser().absolute()
    from gitreg.locate import open_registry

    try:
        return open_registry().store.git_dir / "gitreg-runs"
    except GitregError:
        return Path.cwd() / "gitreg-runs"


@dataclass
class RunInfo:
    run_id: str
    start_time: int

    @property
    def run_uuid(self) -> str:  # MLflow 1.x name, used by the seed tutorial
        return self.run_id


@dataclass
class Run:
    info: RunInfo
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)  # artifact path -> registration info
    auto: bool = False  # started implicitly by log_metric/log_model; ends after the model is logged

    @property
    def directory(self) -> Path:
        return runs_dir() / self.info.run_id

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        data = {
            "run_id": self.info.run_id,
            "start_time": self.info.start_time,
            "metrics": self.metrics,
            "params": self.params,
            "tags": self.tags,
            "models": self.models,
        }
        tmp = self.directory / f".{RUN_FILE}.{os.getpid()}"
        tmp.write_text(yamlio.dump(data))
        os.replace(tmp, self.directory / RUN_FILE)

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        end_run()


_active: Run | None = None


def start_run(run_id: str | None = None, *, auto: bool = False) -> Run:
    """Start (or, given its id, resume) a run; usable as a context manager.

    Without an explicit run, ``log_metric`` and ``log_model`` start one that
    ends once the model is logged, so each ``log_model`` call in a loop or a
    notebook gets its own run, as each ``python train.py`` does.
    """
    global _active
    if run_id is not None:
        _active = load_run(run_id)
    else:
        _active = Run(RunInfo(uuid.uuid4().hex, int(time.time() * 1000)), auto=auto)
    return _active


def active_run() -> Run | None:
    return _active


def end_run() -> None:
    global _active
    if _active is not None and _active.directory.exists():
        _active.save()
    _active = None


def _ensure_run() -> Run:
    return _active if _active is not None else start_run(auto=True)


def log_metric(key: str, value: float) -> None:
    _ensure_run().metrics.update(check_metrics({key: value}))


def log_metrics(metrics: dict[str, float]) -> None:
    _ensure_run().metrics.update(check_metrics(metrics))


def log_param(key: str, value: Any) -> None:
    _ensure_run().params.update(check_params({key: value}))


def log_params(params: dict[str, Any]) -> None:
    _ensure_run().params.update(check_params(params))


def set_tag(key: str, value: Any) -> None:
    _ensure_run().tags[str(key)] = str(value)


def load_run(run_id: str) -> Run:
    """The run ``run_id``: the active run itself when it is that run, so what a
    caller records on it (a registration) is not lost when the run ends and
    saves its own copy."""
    if not run_id.isalnum() or len(run_id) > 64:
        raise InvalidInputError(f"Invalid run id {run_id[:70]!r}.")
    path = runs_dir() / run_id / RUN_FILE
    if not path.is_file():
        raise NotFoundError(f"Run {run_id!r} not found in {runs_dir()}.")
    if _active is not None and _active.info.run_id == run_id:
        return _active
    d = yamlio.load_mapping(path.read_bytes(), str(path))
    return Run(
        RunInfo(str(d.get("run_id", run_id)), int(d.get("start_time") or 0)),
        metrics=check_metrics(d.get("metrics") or {}),
        params=check_params(d.get("params") or {}),
        tags={str(k): str(v) for k, v in (d.get("tags") or {}).items()},
        models={str(k): v for k, v in (d.get("models") or {}).items() if isinstance(v, dict)},
    )


def list_runs() -> list[Run]:
    """Every run with a saved model, newest first (skipping unreadable ones)."""
    root = runs_dir()
    runs = []
    for entry in root.iterdir() if root.is_dir() else []:
        if (entry / RUN_FILE).is_file():
            try:
                runs.append(load_run(entry.name))
            except GitregError:
                continue
    return sorted(runs, key=lambda r: r.info.start_time, reverse=True)


def model_dir(run_id: str, artifact_path: str) -> Path:
    """Where ``runs:/<run_id>/<artifact_path>`` lives; NotFoundError if absent."""
    path = runs_dir() / run_id / artifact_path
    if not (path / "MLmodel").is_file():
        raise NotFoundError(f"No model saved at runs:/{run_id}/{artifact_path} (looked in {path}).")
    return path
