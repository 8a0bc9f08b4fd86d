"""``GitregArtifactRepository``: MLflow's artifact repository for a registry version.

MLflow downloads a registered version through the URI
:meth:`~gitreg.mlflow_plugin.store.GitregRegistryStore.get_model_version_download_uri`
returns. The version is materialised into gitreg's content-addressed cache (every
artifact's sha256 checked against the manifest), then *copied* to MLflow's destination
and checked again there: MLflow writes ``registered_model_meta`` into what it downloaded,
and a path inside the cache must never be written, or the next load of that version
would find a file its manifest does not list. The repository is read-only: versions are
created with ``create_model_version``.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from pathlib import Path

from mlflow.entities import FileInfo
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST
from mlflow.store.artifact.artifact_repo import ArtifactRepository

from gitreg.cache import file_sha256, materialize
from gitreg.errors import IntegrityError
from gitreg.locate import open_registry
from gitreg.manifest import Artifact
from gitreg.mlflow_plugin import uris
from gitreg.mlflow_plugin.errors import as_mlflow_errors
from gitreg.registry import VersionRef


class GitregArtifactRepository(ArtifactRepository):
    """The files of one registry version, named by ``gitreg…?model=NAME&version=N``."""

    def __init__(self, artifact_uri: str, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        with as_mlflow_errors():
            self.version = uris.parse_version_uri(artifact_uri)

    def _ref(self) -> VersionRef:
        v = self.version
        return open_registry(v.registry.location).version_ref(v.name, v.version)

    # -- reading -----------------------------------------------------------------

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The files and directories directly under ``path`` (the version's root by default);
        an empty list for a file or a path the version does not have, as MLflow's repositories."""
        prefix = _clean(path)
        with as_mlflow_errors():
            artifacts = self._ref().manifest.artifacts
        found: dict[str, FileInfo] = {}
        for a in artifacts:
            if prefix and not a.path.startswith(prefix + "/"):
                continue
            rest = a.path[len(prefix) + 1 :] if prefix else a.path
            head, sep, _ = rest.partition("/")
            full = posixpath.join(prefix, head) if prefix else head
            found[full] = FileInfo(full, True, None) if sep else FileInfo(full, False, a.size)
        return [found[k] for k in sorted(found)]

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        """Copy the verified files under ``artifact_path`` (all of them for "") into ``dst_path``
        (a new temporary directory by default) and return the local path of ``artifact_path``."""
        prefix = _clean(artifact_path)
        if dst_path is not None and not os.path.isdir(dst_path):
            raise MlflowException(
                f"The destination path for downloaded artifacts must be an existing directory: {dst_path}",
                error_code=RESOURCE_DOES_NOT_EXIST if not os.path.exists(dst_path) else INVALID_PARAMETER_VALUE,
            )
        dst = Path(os.path.abspath(dst_path) if dst_path else tempfile.mkdtemp(prefix="gitreg-mlflow-"))
        with as_mlflow_errors():
            ref = self._ref()
            chosen = [
                a for a in ref.manifest.artifacts if not prefix or a.path == prefix or a.path.startswith(prefix + "/")
            ]
            if not chosen:
                raise MlflowException(
                    f"{self.version.name} version {self.version.version} has no artifact {prefix!r}.",
                    error_code=RESOURCE_DOES_NOT_EXIST,
                )
            cached = self._materialize(ref)
            for a in chosen:
                _copy_verified(cached, a, dst / a.path)
        return str(dst / prefix) if prefix else str(dst)

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        path = _clean(remote_file_path)
        with as_mlflow_errors():
            ref = self._ref()
            artifact = ref.manifest.artifact(path)
            if artifact is None:
                raise MlflowException(
                    f"{self.version.name} version {self.version.version} has no file {path!r}.",
                    error_code=RESOURCE_DOES_NOT_EXIST,
                )
            _copy_verified(self._materialize(ref), artifact, Path(local_path))

    def _materialize(self, ref: VersionRef) -> Path:
        reg = open_registry(self.version.registry.location)
        return materialize(reg.store, ref.tree, ref.manifest, f"{ref.name} version {ref.version} ({ref.tag})")

    # -- writing: refused ----------------------------------------------------------

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        raise _read_only()

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        raise _read_only()

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        raise _read_only()


def _clean(path: str | None) -> str:
    """``path`` relative to the version's root, refusing anything that leaves it."""
    if not path:
        return ""
    normal = posixpath.normpath(path.replace("\\", "/")).strip("/")
    if normal in ("", "."):
        return ""
    if normal == ".." or normal.startswith("../") or posixpath.isabs(path):
        raise MlflowException(f"{path!r} leaves the model version's directory.", error_code=INVALID_PARAMETER_VALUE)
    return normal


def _copy_verified(cached: Path, artifact: Artifact, dest: Path) -> None:
    """Copy one artifact out of the cache and check the copy against the manifest, so what
    MLflow loads is what was registered even if the cache changed under us."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached / artifact.path, dest)
    sha, size = file_sha256(dest)
    if sha != artifact.sha256 or size != artifact.size:
        dest.unlink(missing_ok=True)
        raise IntegrityError(
            f"{artifact.path}: the copy has sha256 {sha[:12]}… (size {size}), the manifest says "
            f"{artifact.sha256[:12]}… (size {artifact.size}); refusing to hand it to MLflow."
        )


def _read_only() -> MlflowException:
    return MlflowException(
        "A gitreg registry version is immutable: register a new version with create_model_version "
        "(mlflow.register_model) instead of writing artifacts into one.",
        error_code=INVALID_PARAMETER_VALUE,
    )
