"""The ``MLmodel`` file: MLflow's description of a saved model directory.

gitreg saves models in MLflow's directory format so that a version checked
out of a registry loads with ``mlflow.pyfunc.load_model`` too, and so that an
MLflow model directory registers into gitreg unchanged.
"""

from __future__ import annotations

import datetime as dt
import platform
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitreg import yamlio
from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.signature import Signature

MLMODEL = "MLmodel"


@dataclass(frozen=True)
class MLModel:
    flavors: dict[str, dict[str, Any]]
    signature: Signature | None = None
    input_example: str | None = None
    run_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def flavor(self) -> str:
        """gitreg's flavor: ``sklearn`` when present, else ``python_function``."""
        if "sklearn" in self.flavors:
            return "sklearn"
        if "python_function" in self.flavors:
            return "python_function"
        raise InvalidInputError(
            f"MLmodel has flavors {', '.join(self.flavors) or '(none)'}; gitreg loads sklearn and python_function."
        )

    def write(self, directory: Path, artifact_path: str = "model") -> None:
        data: dict[str, Any] = {
            "artifact_path": artifact_path,
            "flavors": self.flavors,
            "model_uuid": uuid.uuid4().hex,
            "run_id": self.run_id,
            "utc_time_created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        }
        if self.signature is not None:
            data["signature"] = self.signature.to_mlflow()
        if self.input_example:
            data["saved_input_example_info"] = {"artifact_path": self.input_example, "type": "json_object"}
        if self.metadata:
            data["metadata"] = self.metadata
        (directory / MLMODEL).write_text(yamlio.dump(data))

    @classmethod
    def read(cls, directory: Path) -> MLModel:
        path = directory / MLMODEL
        if not path.is_file():
            raise NotFoundError(f"{directory} is not a saved model: it has no {MLMODEL} file.")
        where = str(path)
        d = yamlio.load_mapping(path.read_bytes(), where)
        flavors = d.get("flavors")
        if not isinstance(flavors, dict) or not all(isinstance(v, dict) for v in flavors.values()):
            raise InvalidInputError(f"{where}: 'flavors' must be a mapping of flavor names to mappings.")
        sig = Signature.from_dict(d["signature"], f"{where}: signature") if d.get("signature") else None
        example = (d.get("saved_input_example_info") or {}).get("artifact_path")
        raw_meta = d.get("metadata")
        meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        run_id = d.get("run_id")
        return cls(flavors, sig, example if isinstance(example, str) else None, str(run_id) if run_id else None, meta)


def python_env(requirements: list[str]) -> str:
    """``python_env.yaml`` as MLflow writes it."""
    return yamlio.dump(
        {"python": platform.python_version(), "build_dependencies": ["pip"], "dependencies": ["-r requirements.txt"]}
    )


def requirement(dist: str) -> str | None:
    """``dist==version`` for an installed distribution (cheap: no pip subprocess)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{dist}=={version(dist)}"
    except PackageNotFoundError:
        return None
