"""Where a model URI's files are, verified, and what loading them may do.

A registry version (``models:/…``) is resolved and materialised into the
local cache after every artifact's sha256 is checked; a run's model
(``runs:/…``) or a model directory is used where it is. Loading
(:mod:`gitreg.pyfunc`) and registering from a URI (:mod:`gitreg.saving`)
both start here, so the two agree on what a URI names and on what the
registry refuses (pickles, when ``registry.yaml`` says so).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitreg import uri as uris
from gitreg.cache import materialize, read_artifact
from gitreg.config import RegistryConfig
from gitreg.errors import InvalidInputError
from gitreg.flavors import check_allowed
from gitreg.flavors.loading import Loading
from gitreg.flavors.mlmodel import MLMODEL, MLModel
from gitreg.registry import Registry
from gitreg.registry.layout import CONFIG_FILE, MAIN, at
from gitreg.signature import Signature


@dataclass(frozen=True)
class ModelMetadata:
    """Where a loaded model came from."""

    name: str | None
    version: int | None
    resolved_from: str  # "version", "latest", a stage/alias, or "path"
    commit: str | None
    tag: str | None
    tree: str | None
    flavor: str
    signature: Signature | None
    run_id: str | None
    path: str
    loaded_at: float
    uri: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "resolved_from": self.resolved_from,
            "commit": self.commit,
            "tag": self.tag,
            "tree": self.tree,
            "flavor": self.flavor,
            "signature": self.signature.to_dict() if self.signature else None,
            "run_id": self.run_id,
            "uri": self.uri,
            "loaded_at": self.loaded_at,
        }


def materialized(
    parsed: uris.ModelURI, registry: str | os.PathLike[str] | Registry | None = None, *, verify: bool = False
) -> Path:
    """The verified local directory of a registry URI's version (``verify``: hash every
    cached byte again, not only the files' status; see :func:`gitreg.cache.check_cached`)."""
    path, _, _ = locate(parsed, registry, verify=verify)
    return path


def registry_config(registry: Registry) -> RegistryConfig:
    """The registry's ``registry.yaml`` on main, parsed: what its loaders trust."""
    return RegistryConfig.from_yaml(registry.store.read_blob(at(MAIN, CONFIG_FILE)) or b"{}")


def pickle_refusal(allow_pickle: bool | None, config: RegistryConfig | None) -> str | None:
    """Why pickles are refused for this load, or None when they are allowed.

    The registry's ``loading: {allow_pickle: false}`` is a floor: no argument
    lifts it. The caller's ``allow_pickle=False`` (``--no-pickle``) makes any
    load stricter; ``allow_pickle=True`` or None leaves the registry's choice."""
    if config is not None and not config.loading.allow_pickle:
        return "the registry's registry.yaml sets loading: {allow_pickle: false}, which no argument overrides"
    if allow_pickle is False:
        return "allow_pickle=False / --no-pickle"
    return None


def locate(
    parsed: uris.ModelURI,
    registry: Any,
    require_signed: bool = False,
    trusted_types: Sequence[str] | None = None,
    allow_pickle: bool | None = None,
    *,
    verify: bool = False,
) -> tuple[Path, ModelMetadata, Loading]:
    """Where ``parsed``'s files are, what it is, and how it may be loaded. A registry version is
    materialised, or its cache entry checked; ``verify`` re-hashes every byte of a cached one."""
    from gitreg import runs
    from gitreg.locate import open_registry

    now = time.time()
    if require_signed and not parsed.is_registry:
        raise InvalidInputError(f"{parsed} is not a registry version: only registry versions can be signed.")
    if parsed.kind == "path" or parsed.kind == "run":
        if parsed.kind == "run":
            assert parsed.run_id and parsed.path
            path = runs.model_dir(parsed.run_id, parsed.path)
        else:
            path = Path(str(parsed.path)).expanduser().absolute()
            if path.name == "MLmodel":
                path = path.parent
        mlmodel = MLModel.read(path)
        meta = ModelMetadata(
            None, None, parsed.kind, None, None, None, mlmodel.flavor, mlmodel.signature,
            mlmodel.run_id, str(path), now, str(parsed),
        )  # fmt: skip
        loading = Loading(str(path), None, tuple(trusted_types or ()), pickle_refusal(allow_pickle, None))
        return path, meta, loading
    reg = open_registry(registry)
    resolved = reg.resolve(parsed)
    if require_signed:
        from gitreg.signatures import require_signed as check_signed

        stage = parsed.stage if parsed.kind == "stage" else None
        past = reg.reader.stage_commit_at(stage, parsed.as_of) if stage and parsed.as_of is not None else None
        check_signed(reg, resolved, stage, past)
    ref = resolved.ref
    m = ref.manifest
    config = registry_config(reg)
    loading = Loading(
        f"models:/{ref.name}/{ref.version}",
        frozenset(a.path for a in m.artifacts),
        tuple(config.trusted_types if trusted_types is None else trusted_types),
        pickle_refusal(allow_pickle, config),
    )
    label = f"{ref.name} version {ref.version} ({ref.tag})"
    if loading.pickle_refused is not None:
        # Refuse a pickled version before fetching and writing its artifacts.
        raw = read_artifact(reg.store, ref.tree, m, MLMODEL, label)
        if raw is not None:
            check_allowed(MLModel.from_yaml(raw, f"{loading.label}: {MLMODEL}"), m.flavor, loading)
    path = materialize(reg.store, ref.tree, m, label, verify=verify)
    meta = ModelMetadata(
        ref.name, ref.version, resolved.via, ref.commit, ref.tag, ref.tree, m.flavor, m.signature,
        m.provenance.run_id, str(path), now, str(parsed),
    )  # fmt: skip
    return path, meta, loading
