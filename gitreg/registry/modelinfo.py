"""``get_model_info``: what ``mlflow.models.get_model_info`` answers, from a version's ``MLmodel``.

MLflow code asks it for a model's signature, flavors and run id before (or instead of)
loading the model. gitreg answers it without mlflow and without materialising the
version: the ``MLmodel`` file is one blob in the version's subtree, read by its path,
so only that blob is fetched from a remote registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitreg import yamlio
from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.registry.layout import at
from gitreg.signature import Signature
from gitreg.uri import parse

MLMODEL = "MLmodel"


@dataclass(frozen=True)
class ModelInfo:
    """The fields of MLflow's ``ModelInfo``, read from the model's ``MLmodel`` file.

    ``model_uri`` is the URI asked about; ``registered_model_version`` is the version a
    ``models:/`` URI resolved to (None for a local directory). A field the ``MLmodel``
    does not record (gitreg-saved models carry no ``mlflow_version``) is None."""

    artifact_path: str | None
    flavors: dict[str, dict[str, Any]]
    model_uri: str
    model_uuid: str | None
    run_id: str | None
    saved_input_example_info: dict[str, Any] | None
    signature: Signature | None
    utc_time_created: str | None
    mlflow_version: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    registered_model_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the signature in gitreg's list form)."""
        return {
            "artifact_path": self.artifact_path,
            "flavors": self.flavors,
            "model_uri": self.model_uri,
            "model_uuid": self.model_uuid,
            "run_id": self.run_id,
            "saved_input_example_info": self.saved_input_example_info,
            "signature": self.signature.to_dict() if self.signature else None,
            "utc_time_created": self.utc_time_created,
            "mlflow_version": self.mlflow_version,
            "metadata": self.metadata,
            "registered_model_version": self.registered_model_version,
        }


def get_model_info(model_uri: str, *, registry: Any = None) -> ModelInfo:
    """The :class:`ModelInfo` of ``model_uri``: ``models:/NAME/VERSION``, a stage, an alias,
    ``latest``, or a local saved-model directory.

    A registry URI is resolved as :func:`gitreg.pyfunc.load_model` resolves it (``registry``,
    else the current one); nothing is materialised. Raises :class:`NotFoundError` when the
    version or directory does not exist or has no ``MLmodel`` file, and
    :class:`InvalidInputError` for a ``runs:/`` URI (register the run's model first) or a
    malformed ``MLmodel``."""
    uri = parse(model_uri)
    if uri.kind == "run":
        raise InvalidInputError(
            f"{model_uri}: get_model_info reads registered versions and local directories; "
            "register the run's model first and ask about models:/NAME/VERSION."
        )
    if uri.kind == "path":
        assert uri.path is not None
        path = Path(uri.path) / MLMODEL
        if not path.is_file():
            raise NotFoundError(f"{uri.path} is not a saved model: it has no {MLMODEL} file.")
        return _from_mlmodel(path.read_bytes(), str(path), model_uri, None)
    from gitreg.locate import open_registry

    reg = open_registry(registry)
    resolved = reg.resolve(uri)
    raw = reg.store.read_blob(at(resolved.ref.tree, MLMODEL))
    if raw is None:
        raise NotFoundError(
            f"{model_uri} resolved to {resolved.name} version {resolved.version}, which has no {MLMODEL} file "
            "(it was registered from a bare pickle); its flavor and signature are in 'gitreg show'."
        )
    return _from_mlmodel(raw, f"{resolved.ref.tag}:{MLMODEL}", model_uri, resolved.version)


def _from_mlmodel(raw: bytes, where: str, model_uri: str, version: int | None) -> ModelInfo:
    d = yamlio.load_mapping(raw, where)
    flavors = d.get("flavors")
    if not isinstance(flavors, dict) or not all(isinstance(v, dict) for v in flavors.values()):
        raise InvalidInputError(f"{where}: 'flavors' must be a mapping of flavor names to mappings.")
    example = d.get("saved_input_example_info")
    metadata = d.get("metadata")
    return ModelInfo(
        artifact_path=_text(d.get("artifact_path")),
        flavors=flavors,
        model_uri=model_uri,
        model_uuid=_text(d.get("model_uuid")),
        run_id=_text(d.get("run_id")),
        saved_input_example_info=example if isinstance(example, dict) else None,
        signature=Signature.from_dict(d["signature"], f"{where}: signature") if d.get("signature") else None,
        utc_time_created=_text(d.get("utc_time_created")),
        mlflow_version=_text(d.get("mlflow_version")),
        metadata=metadata if isinstance(metadata, dict) else {},
        registered_model_version=version,
    )


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


__all__ = ["ModelInfo", "get_model_info"]
