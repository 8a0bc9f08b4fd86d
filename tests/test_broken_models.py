"""A model file that was registered broken (its sha256 matches the manifest
because it was broken when registered) is one actionable line naming the file
and the version, for load_model, ``gitreg predict`` and ``gitreg serve``; a
server following a stage keeps its current version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from served_models import Constant

import gitreg
import gitreg.pyfunc
from gitreg import testing
from gitreg.errors import InvalidInputError
from gitreg.registry import Registry

BROKEN = {"truncated": lambda data: data[: len(data) // 2], "garbage": lambda data: b"\x80\x05not a pickle at all"}


def register_broken(registry: Registry, saved: Path, name: str, how: str = "truncated") -> int:
    pkl = saved / "model.pkl"
    pkl.write_bytes(BROKEN[how](pkl.read_bytes()))
    mv = gitreg.register_model(str(saved), name, registry=registry)
    return int(mv.version)


@pytest.mark.parametrize("how", sorted(BROKEN))
def test_a_broken_pickle_is_one_line_naming_the_file_and_the_version(
    registry: Registry, saved_model: Path, how: str
) -> None:
    register_broken(registry, saved_model, "M", how)
    with pytest.raises(InvalidInputError) as caught:
        gitreg.pyfunc.load_model("models:/M/1", registry=registry)
    (line,) = str(caught.value).splitlines()
    assert line.startswith("model.pkl of models:/M/1 could not be unpickled: ")
    assert line.endswith("the artifact was registered broken — register a fixed version.")


def test_a_broken_python_model_names_its_pickle(registry: Registry, tmp_path: Path) -> None:
    saved = tmp_path / "py"
    gitreg.pyfunc.save_model(saved, Constant(1))
    (saved / "python_model.pkl").write_bytes(b"garbage")
    gitreg.register_model(str(saved), "Const", registry=registry)
    with pytest.raises(InvalidInputError, match=r"^python_model\.pkl of models:/Const/1 could not be unpickled"):
        gitreg.pyfunc.load_model("models:/Const/1", registry=registry)


def test_a_broken_skops_file_cannot_be_read(registry: Registry, seed_model: Any, tmp_path: Path) -> None:
    pytest.importorskip("skops")
    saved = tmp_path / "skops"
    gitreg.sklearn.save_model(seed_model, saved, serialization_format="skops")
    (saved / "model.skops").write_bytes(b"not a zip file")
    gitreg.register_model(str(saved), "S", registry=registry)
    with pytest.raises(InvalidInputError, match=r"^model\.skops of models:/S/1 could not be read: BadZipFile"):
        gitreg.pyfunc.load_model("models:/S/1", registry=registry)


def test_a_broken_local_file_says_to_save_again(saved_model: Path) -> None:
    (saved_model / "model.pkl").write_bytes(b"")
    with pytest.raises(InvalidInputError, match=r"could not be unpickled: EOFError.*save the model again"):
        gitreg.pyfunc.load_model(str(saved_model))


def test_predict_and_serve_refuse_a_broken_version_in_one_line(
    registry: Registry, saved_model: Path, env: dict[str, str], tmp_path: Path
) -> None:
    register_broken(registry, saved_model, "M")
    rows = tmp_path / "rows.json"
    rows.write_text('{"dataframe_split": {"columns": ["x"], "data": [[1]]}}')
    where = ("-r", str(registry.path))
    for proc in (
        testing.run_cli("predict", "-m", "models:/M/1", "-i", str(rows), *where, env=env),
        testing.run_cli("serve", "-m", "models:/M/1", "--port", str(testing.free_port()), *where, env=env),
    ):
        assert proc.returncode == 1, proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert line.startswith("Error: model.pkl of models:/M/1 could not be unpickled")


def test_a_follower_keeps_serving_when_a_broken_version_is_promoted(
    registry: Registry, saved_model: Path, seed_model: Any
) -> None:
    from gitreg.server import create_app

    gitreg.sklearn.log_model(seed_model, "model", "M", registry=registry)
    registry.promote("M", 1, "production")
    app = create_app("models:/M/Production", registry=registry, follow=True)
    registry.promote("M", register_broken(registry, saved_model, "M"), "production")
    (line,) = app.models.sync()
    assert line.startswith("refusing the new version of M: model.pkl of models:/M/2 could not be unpickled")
    assert line.endswith("still serving version 1")
    served = app.models.get("M")
    assert served is not None and served.metadata.version == 1
