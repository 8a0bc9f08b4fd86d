"""Every file a flavor opens is an artifact of the version: the paths in
``MLmodel`` are written by whoever registered the model, so a path outside the
verified version directory (absolute, ``..``, a symlink, or merely not in the
manifest) is refused before anything is unpickled, and ``gitreg check`` says so."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import yaml

import gitreg
import gitreg.pyfunc
from gitreg.check import check_registry
from gitreg.errors import IntegrityError, InvalidInputError
from gitreg.flavors.loading import artifact_name
from gitreg.registry import Registry


class _Touch:
    """Unpickling this creates ``marker``: proof that a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (open, (str(self.marker), "w"))


def evil_pickle(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(_Touch(marker)))
    return path


def edit_mlmodel(directory: Path, flavor: str, key: str, value: Any) -> None:
    mlmodel = yaml.safe_load((directory / "MLmodel").read_text())
    mlmodel["flavors"][flavor][key] = value
    (directory / "MLmodel").write_text(yaml.safe_dump(mlmodel))


class Echo(gitreg.pyfunc.PythonModel):
    """Answers the number in its ``data`` artifact."""

    def load_context(self, context: Any) -> None:
        self.data = Path(context.artifacts["data"])
        self.offset = int((self.data / "offset.txt").read_text())

    def predict(self, context: Any, model_input: Any) -> Any:
        return [self.offset] * len(model_input)


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


@pytest.mark.parametrize("where", ["absolute", "dotdot", "not-listed"])
def test_sklearn_pickled_model_outside_the_versions_artifacts_is_refused_unread(
    registry: Registry, saved_model: Path, tmp_path: Path, marker: Path, where: str
) -> None:
    outside = evil_pickle(tmp_path / "evil.pkl", marker)
    rel = {"absolute": str(outside), "dotdot": "../../../../../../../../.." + str(outside), "not-listed": "gitreg.yaml"}
    edit_mlmodel(saved_model, "sklearn", "pickled_model", rel[where])
    gitreg.register_model(str(saved_model), "M", registry=registry)
    with pytest.raises(IntegrityError, match=r"models:/M/1: the sklearn flavor's pickled_model is .* not one of the"):
        gitreg.pyfunc.load_model("models:/M/1", registry=registry)
    assert not marker.exists()


def test_python_model_outside_the_version_is_refused_unread(registry: Registry, tmp_path: Path, marker: Path) -> None:
    saved = tmp_path / "py"
    gitreg.pyfunc.save_model(saved, Echo())
    edit_mlmodel(saved, "python_function", "python_model", str(evil_pickle(tmp_path / "evil.pkl", marker)))
    gitreg.register_model(str(saved), "Py", registry=registry)
    with pytest.raises(IntegrityError, match="python_model is '/"):
        gitreg.pyfunc.load_model("models:/Py/1", registry=registry)
    assert not marker.exists()


def test_an_artifact_outside_the_version_is_refused_before_the_model_is_unpickled(
    registry: Registry, tmp_path: Path, marker: Path
) -> None:
    saved = tmp_path / "py"
    gitreg.pyfunc.save_model(saved, Echo())
    evil_pickle(saved / "python_model.pkl", marker)  # a registered (verified) pickle: must not run first
    edit_mlmodel(saved, "python_function", "artifacts", {"data": "../../../../../../../../../etc"})
    gitreg.register_model(str(saved), "Py", registry=registry)
    with pytest.raises(IntegrityError, match="python_function artifact 'data'"):
        gitreg.pyfunc.load_model("models:/Py/1", registry=registry)
    assert not marker.exists()


def test_a_directory_artifact_inside_the_version_is_handed_to_load_context(registry: Registry, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "offset.txt").write_text("7")
    gitreg.pyfunc.log_model("model", python_model=Echo(), artifacts={"data": str(data)}, registered_model_name="Py")
    model = gitreg.pyfunc.load_model("models:/Py/1", registry=registry)
    assert model.predict([[1], [2]]) == [7, 7]
    assert model.get_raw_model().data.is_relative_to(model.metadata.path)


def test_a_symlink_leading_out_of_a_local_model_directory_is_refused(
    saved_model: Path, tmp_path: Path, marker: Path
) -> None:
    (saved_model / "model.pkl").unlink()
    (saved_model / "model.pkl").symlink_to(evil_pickle(tmp_path / "evil.pkl", marker))
    with pytest.raises(InvalidInputError, match="symbolic link"):
        gitreg.pyfunc.load_model(str(saved_model))
    assert not marker.exists()


def test_a_local_model_directory_may_not_name_a_file_outside_it(
    saved_model: Path, tmp_path: Path, marker: Path
) -> None:
    edit_mlmodel(saved_model, "sklearn", "pickled_model", str(evil_pickle(tmp_path / "evil.pkl", marker)))
    with pytest.raises(InvalidInputError, match="not a relative path inside the model directory"):
        gitreg.pyfunc.load_model(str(saved_model))
    assert not marker.exists()


def test_check_flags_a_version_whose_mlmodel_names_a_file_that_is_not_an_artifact(
    registry: Registry, saved_model: Path, tmp_path: Path, seed_model: Any
) -> None:
    gitreg.sklearn.log_model(seed_model, "model", "Clean", registry=registry)
    edit_mlmodel(saved_model, "sklearn", "pickled_model", "/tmp/elsewhere.pkl")
    edit_mlmodel(saved_model, "python_function", "code", ["../src"])
    gitreg.register_model(str(saved_model), "M", registry=registry)
    found = [f for f in check_registry(registry.store) if f.rule == "artifact-path"]
    assert sorted((f.model, f.version, f.file) for f in found) == [("M", 1, "M/v1:models/M/MLmodel")] * 2
    assert any("sklearn.pickled_model is '/tmp/elsewhere.pkl'" in f.message for f in found)
    assert any("python_function.code is '../src'" in f.message for f in found)


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("model.pkl", "model.pkl"),
        ("./model.pkl", "model.pkl"),
        ("artifacts/data", "artifacts/data"),  # a directory holding artifacts
        ("/abs/model.pkl", None),
        ("../model.pkl", None),
        ("artifacts/../../x", None),
        ("artifacts\\..\\x", None),
        ("gitreg.yaml", None),  # in the materialised directory, but not an artifact
        ("", None),
        (None, None),
        (["model.pkl"], None),
    ],
)
def test_artifact_name_accepts_only_the_versions_own_files(rel: object, expected: str | None) -> None:
    assert artifact_name(rel, {"model.pkl", "artifacts/data/offset.txt"}, tree=True) == expected
