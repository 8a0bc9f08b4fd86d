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
# the keys of each flavor's section whose value is a path (or a list of paths) inside the model
_PATH_KEYS = {
    "python_function": ("python_model", "data", "model_path", "code"),
    "sklearn": ("pickled_model", "code"),
}


@dataclass(frozen=True)
class MLModel:
    flavors: dict[str, dict[str, Any]]
    signature: Signature | None = None
    input_example: str | None = None  # the example's path, from input_example_info
    run_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # MLmodel's saved_input_example_info as written (how to read the example back)
    input_example_info: dict[str, Any] | None = None

    @classmethod
    def example_fields(cls, example: str | dict[str, Any] | None) -> dict[str, Any]:
        """The ``input_example`` and ``input_example_info`` arguments for an
        example given by its path or by its ``saved_input_example_info``."""
        if isinstance(example, dict):
            path = example.get("artifact_path")
            return {"input_example": path if isinstance(path, str) else None, "input_example_info": example}
        return {"input_example": example, "input_example_info": None}

    def load_input_example(self, directory: Path) -> Any:
        """The saved input example as MLflow's ``Model.load_input_example``
        returns it (a DataFrame for a table), or None when there is none."""
        from gitreg.flavors.examples import read_example

        if self.input_example is None:
            return None
        return read_example(directory, self.input_example_info or {"artifact_path": self.input_example})

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
        if self.input_example_info is not None:
            data["saved_input_example_info"] = self.input_example_info
        elif self.input_example:
            data["saved_input_example_info"] = {"artifact_path": self.input_example, "type": "json_object"}
        if self.metadata:
            data["metadata"] = self.metadata
        (directory / MLMODEL).write_text(yamlio.dump(data))

    def named_paths(self) -> list[tuple[str, object]]:
        """Every file or directory this ``MLmodel`` names, as (``flavor.key``, value as written).

        What the sklearn and python_function loaders (gitreg's or MLflow's)
        open, plus the input example and environment files, so that
        ``gitreg check`` can tell a version naming something outside itself."""
        out: list[tuple[str, object]] = []
        if self.input_example is not None:
            out.append(("saved_input_example_info.artifact_path", self.input_example))
        for flavor, keys in _PATH_KEYS.items():
            conf = self.flavors.get(flavor) or {}
            for key in keys:
                value = conf.get(key)
                values = value if isinstance(value, list) else [value]
                out += [(f"{flavor}.{key}", v) for v in values if v is not None]
            env = conf.get("env")
            if isinstance(env, dict):
                out += [(f"{flavor}.env.{k}", v) for k, v in env.items() if v is not None]
            elif env is not None:
                out.append((f"{flavor}.env", env))
            artifacts = conf.get("artifacts")
            if isinstance(artifacts, dict):
                out += [(f"{flavor}.artifacts.{k}", python_artifact(v)) for k, v in artifacts.items()]
        return out

    @classmethod
    def read(cls, directory: Path) -> MLModel:
        path = directory / MLMODEL
        if not path.is_file():
            raise NotFoundError(f"{directory} is not a saved model: it has no {MLMODEL} file.")
        return cls.from_yaml(path.read_bytes(), str(path))

    @classmethod
    def from_yaml(cls, raw: bytes | str, where: str) -> MLModel:
        """Parse an ``MLmodel`` file's text; :class:`InvalidInputError` names ``where``."""
        d = yamlio.load_mapping(raw, where)
        flavors = d.get("flavors")
        if not isinstance(flavors, dict) or not all(isinstance(v, dict) for v in flavors.values()):
            raise InvalidInputError(f"{where}: 'flavors' must be a mapping of flavor names to mappings.")
        sig = Signature.from_dict(d["signature"], f"{where}: signature") if d.get("signature") else None
        info = d.get("saved_input_example_info")
        info = info if isinstance(info, dict) else None
        example = (info or {}).get("artifact_path")
        raw_meta = d.get("metadata")
        meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        run_id = d.get("run_id")
        return cls(
            flavors,
            sig,
            example if isinstance(example, str) else None,
            str(run_id) if run_id else None,
            meta,
            info if isinstance(example, str) else None,
        )


def python_artifact(value: object) -> object:
    """The path of one python_function ``artifacts`` entry: gitreg writes the
    path itself, MLflow a mapping ``{path: ..., uri: ...}``."""
    return value.get("path") if isinstance(value, dict) else value


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
