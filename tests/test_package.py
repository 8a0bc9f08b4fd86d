"""What can be registered: saved directories, MLflow directories, pickles; never
anything outside the source."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitreg import package
from gitreg.errors import InvalidInputError, NotFoundError

MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.0
run_id: 0123abcd
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
saved_input_example_info:
  artifact_path: input_example.json
  type: dataframe
  pandas_orient: split
"""


def mlflow_dir(tmp_path: Path, seed_model: object) -> Path:
    import cloudpickle

    d = tmp_path / "mlflow_model"
    d.mkdir()
    (d / "MLmodel").write_text(MLMODEL)
    (d / "model.pkl").write_bytes(cloudpickle.dumps(seed_model))
    (d / "input_example.json").write_text('{"columns": ["x"], "data": [[1.0]]}')
    return d


def test_an_mlflow_model_directory_keeps_its_signature_run_id_and_example(tmp_path: Path, seed_model: object) -> None:
    pkg = package.from_directory(mlflow_dir(tmp_path, seed_model))
    assert pkg.flavor == "sklearn" and pkg.run_id == "0123abcd"
    assert pkg.signature is not None and pkg.signature.column_names == ["x"]
    assert pkg.input_example == "input_example.json"
    assert set(pkg.files) == {"MLmodel", "model.pkl", "input_example.json"}


def test_symlinks_are_refused_wherever_they_point(tmp_path: Path, saved_model: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("keys")
    os.symlink(secret, saved_model / "leak.txt")
    with pytest.raises(InvalidInputError, match="symbolic link"):
        package.from_directory(saved_model)


def test_special_files_are_refused(saved_model: Path) -> None:
    os.mkfifo(saved_model / "pipe")
    with pytest.raises(InvalidInputError, match="not a regular file"):
        package.from_directory(saved_model)


def test_a_directory_without_mlmodel_says_how_to_save_one(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="save_model"):
        package.from_source(tmp_path / "empty")
    with pytest.raises(NotFoundError):
        package.from_source(tmp_path / "missing")


def test_a_file_that_is_not_a_pickle_is_refused(tmp_path: Path) -> None:
    (tmp_path / "junk.pkl").write_bytes(b"\x00not a pickle")
    with pytest.raises(InvalidInputError, match="could not be unpickled"):
        package.from_source(tmp_path / "junk.pkl")


def test_corrupt_mlmodel_yaml_names_the_file(tmp_path: Path, seed_model: object) -> None:
    d = mlflow_dir(tmp_path, seed_model)
    (d / "MLmodel").write_text("flavors: [unclosed")
    with pytest.raises(InvalidInputError, match="MLmodel: invalid YAML"):
        package.from_directory(d)
    (d / "MLmodel").write_text("flavors: !!python/object/apply:os.system ['touch pwned']")
    with pytest.raises(InvalidInputError):
        package.from_directory(d)
    assert not Path("pwned").exists()
