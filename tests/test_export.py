"""``gitreg.export``: a verified copy of one version, out of the cache, in gitreg's or MLflow's layout."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from served_models import Constant, register, register_seed

import gitreg.pyfunc
from gitreg.cache import cache_root
from gitreg.errors import AlreadyExistsError, IntegrityError, InvalidInputError
from gitreg.export import export_version
from gitreg.manifest import MANIFEST_FILE, Manifest
from gitreg.registry import Registry


@pytest.fixture
def seeded(registry: Registry) -> Registry:
    register_seed(registry)
    return registry


def test_export_writes_every_artifact_as_registered_and_the_manifest(seeded: Registry, tmp_path: Path) -> None:
    out = export_version("models:/LogisticRegression/1", tmp_path / "out")

    manifest = Manifest.from_yaml((out / MANIFEST_FILE).read_bytes(), "export")
    assert (manifest.name, manifest.version) == ("LogisticRegression", 1)
    assert sorted(p.name for p in out.iterdir()) == sorted([*(a.path for a in manifest.artifacts), MANIFEST_FILE])
    for a in manifest.artifacts:
        assert hashlib.sha256((out / a.path).read_bytes()).hexdigest() == a.sha256
    assert cache_root() not in out.resolve().parents


def test_export_is_a_copy_so_changing_it_leaves_the_cache_verified(seeded: Registry, tmp_path: Path) -> None:
    out = export_version("models:/LogisticRegression/1", tmp_path / "out")
    (out / "model.pkl").write_bytes(b"changed")
    model = gitreg.pyfunc.load_model("models:/LogisticRegression/1")  # re-verifies the cache
    assert list(model.predict(pd.DataFrame({"x": [2.0]}))) == [1]


def test_export_refuses_a_non_empty_directory_and_leaves_it_as_it_was(seeded: Registry, tmp_path: Path) -> None:
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(AlreadyExistsError, match="not an empty directory"):
        export_version("models:/LogisticRegression/1", dest)
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (export_version("models:/LogisticRegression/1", empty) / "MLmodel").is_file()


def test_export_of_a_tampered_cache_is_refused_and_writes_nothing(seeded: Registry, tmp_path: Path) -> None:
    cached = Path(gitreg.pyfunc.load_model("models:/LogisticRegression/1").metadata.path)
    (cached / "model.pkl").write_bytes(b"not the registered model")
    with pytest.raises(IntegrityError, match=r"model\.pkl"):
        export_version("models:/LogisticRegression/1", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out-")]


def test_mlflow_export_loads_with_mlflow_and_predicts_as_gitreg(seeded: Registry, tmp_path: Path) -> None:
    mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")
    out = export_version("models:/LogisticRegression/1", tmp_path / "mlflow-model", format="mlflow")
    rows = pd.DataFrame({"x": [2.0, -2.0, 0.5, -0.4]})

    by_mlflow = mlflow_pyfunc.load_model(str(out)).predict(rows)
    by_gitreg = gitreg.pyfunc.load_model("models:/LogisticRegression/1").predict(rows)

    assert list(by_mlflow) == list(by_gitreg)
    assert (out / "requirements.txt").is_file() and (out / "python_env.yaml").is_file()


def test_mlflow_export_refuses_a_model_only_gitreg_loads(registry: Registry, tmp_path: Path) -> None:
    register(registry, "Echo", Constant(1))
    with pytest.raises(InvalidInputError, match=r"gitreg\.pyfunc, not by one of MLflow's own loaders"):
        export_version("models:/Echo/1", tmp_path / "out", format="mlflow")
    assert not (tmp_path / "out").exists()


def test_export_takes_only_registry_versions(tmp_path: Path, saved_model: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a registry version"):
        export_version(str(saved_model), tmp_path / "out")


def test_the_dockerfile_of_a_version_without_requirements_installs_only_gitreg(
    registry: Registry, tmp_path: Path
) -> None:
    from gitreg import testing
    from gitreg.export import dockerfile

    registry.register("bare", testing.file_package(tmp_path / "pkg", {"model.bin": "x"}))
    text = dockerfile("models:/bare/1")
    assert "# bare version 1 records no requirements.txt: only gitreg's own dependencies are installed.\n" in text
    assert "requirements.txt /tmp" not in text and "FROM python:3.11-slim\n" in text
    assert text.endswith(
        'CMD ["gitreg", "serve", "-m", "/model", "--host", "0.0.0.0", "--port", "8080", "--allowed-host", "*"]\n'
    )


def test_the_dockerfile_installs_gitreg_from_the_build_arguments_literally(seeded: Registry) -> None:
    from gitreg.export import dockerfile

    text = dockerfile("models:/LogisticRegression/1")
    assert 'RUN pip install --no-cache-dir "gitreg-registry[serve] @ git+${GITREG_GIT_URL}@${GITREG_REF}"\n' in text
    assert "RUN apt-get update && apt-get install -y --no-install-recommends git \\\n    && rm -rf" in text
    assert "\n\n\n" not in text
