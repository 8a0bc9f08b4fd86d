"""gitreg.get_model_info answers what mlflow.models.get_model_info answers, from the version's MLmodel."""

from __future__ import annotations

from pathlib import Path

import pytest

import gitreg
from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.registry import Registry


def test_model_info_of_a_registered_version_reads_its_mlmodel(registry: Registry, saved_model: Path) -> None:
    gitreg.register_model(str(saved_model), "iris")
    gitreg.register_model(str(saved_model), "iris")
    info = gitreg.get_model_info("models:/iris/2")
    assert isinstance(info, gitreg.ModelInfo)
    assert info.model_uri == "models:/iris/2"
    assert info.registered_model_version == 2
    assert set(info.flavors) >= {"python_function", "sklearn"}
    assert info.artifact_path and info.utc_time_created and info.model_uuid
    assert info.signature is not None and info.signature.column_names == ["x"]
    assert info.saved_input_example_info and info.saved_input_example_info["artifact_path"]


def test_model_info_of_a_stage_names_the_version_it_resolved_to(registry: Registry, saved_model: Path) -> None:
    for _ in range(2):
        gitreg.register_model(str(saved_model), "iris")
    registry.promote("iris", 1, "Production")
    assert gitreg.get_model_info("models:/iris/Production").registered_model_version == 1
    assert gitreg.get_model_info("models:/iris/latest").registered_model_version == 2


def test_model_info_of_a_local_directory_has_no_version(saved_model: Path) -> None:
    info = gitreg.get_model_info(str(saved_model))
    assert info.registered_model_version is None
    assert "sklearn" in info.flavors


def test_model_info_is_frozen(saved_model: Path) -> None:
    info = gitreg.get_model_info(str(saved_model))
    with pytest.raises(AttributeError):
        info.run_id = "x"  # type: ignore[misc]


def test_model_info_refuses_what_it_cannot_read(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no MLmodel"):
        gitreg.get_model_info(str(tmp_path))
    with pytest.raises(NotFoundError):
        gitreg.get_model_info("models:/nope/1")
    with pytest.raises(InvalidInputError, match="register the run"):
        gitreg.get_model_info("runs:/0123456789abcdef/model")
