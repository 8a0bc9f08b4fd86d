"""A loader can insist on a format that runs no code: ``allow_pickle=False``,
``--no-pickle`` or ``loading: {allow_pickle: false}`` in registry.yaml refuse
every pickle-based version before it is materialised. The registry's refusal
is a floor an argument cannot lift; an argument can only make a load stricter."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from served_models import Constant, register

import gitreg
import gitreg.pyfunc
import gitreg.sklearn
from gitreg import testing
from gitreg.cache import cache_root
from gitreg.errors import InvalidInputError
from gitreg.registry import Registry

X = np.array([[2.0], [-2.0]])


def refuse_pickles_in_registry_yaml(registry: Registry) -> None:
    path = registry.path / "registry.yaml"
    config = yaml.safe_load(path.read_text())
    config["loading"] = {"allow_pickle": False}
    path.write_text(yaml.safe_dump(config))
    subprocess.run(["git", "-C", str(registry.path), "commit", "-qam", "Refuse pickles"], check=True)


def cached(registry: Registry, name: str, version: int) -> bool:
    return (cache_root() / "models" / registry.version_ref(name, version).tree).exists()


@pytest.fixture
def pickled(registry: Registry, seed_model: Any) -> Registry:
    """models:/lr/1, stored with cloudpickle (the default)."""
    gitreg.sklearn.log_model(seed_model, "model", "lr", registry=registry)
    return registry


def test_allow_pickle_false_refuses_a_cloudpickle_version_before_materialising_it(pickled: Registry) -> None:
    with pytest.raises(InvalidInputError) as caught:
        gitreg.pyfunc.load_model("models:/lr/1", registry=pickled, allow_pickle=False)
    message = str(caught.value)
    assert message.startswith("models:/lr/1 is stored with cloudpickle (sklearn flavor)")
    assert 'serialization_format="skops"' in message
    assert not cached(pickled, "lr", 1)


def test_an_empty_trust_list_does_not_stop_a_pickle_but_allow_pickle_false_does(pickled: Registry) -> None:
    assert gitreg.sklearn.load_model("models:/lr/1", registry=pickled, trusted_types=[]) is not None
    with pytest.raises(InvalidInputError, match="refuses pickles"):
        gitreg.sklearn.load_model("models:/lr/1", registry=pickled, trusted_types=[], allow_pickle=False)


def test_every_python_function_model_is_a_pickle(registry: Registry) -> None:
    register(registry, "Const", Constant(1))
    with pytest.raises(InvalidInputError, match=r"models:/Const/1 is stored with cloudpickle .*always pickled"):
        gitreg.pyfunc.load_model("models:/Const/1", registry=registry, allow_pickle=False)


def test_a_local_pickled_directory_is_refused_too(saved_model: Path) -> None:
    with pytest.raises(InvalidInputError, match="refuses pickles"):
        gitreg.pyfunc.load_model(str(saved_model), allow_pickle=False)
    assert gitreg.pyfunc.load_model(str(saved_model)).predict({"x": [1.0]}) is not None


def test_registry_yaml_refuses_pickles_and_an_argument_cannot_allow_them_again(pickled: Registry) -> None:
    refuse_pickles_in_registry_yaml(pickled)
    for allow in (None, True):
        with pytest.raises(InvalidInputError, match=r"registry\.yaml sets loading: \{allow_pickle: false\}"):
            gitreg.pyfunc.load_model("models:/lr/1", registry=pickled, allow_pickle=allow)
    assert not cached(pickled, "lr", 1)


def test_a_skops_version_loads_when_pickles_are_refused(registry: Registry, seed_model: Any) -> None:
    pytest.importorskip("skops")
    gitreg.sklearn.log_model(seed_model, "model", "lr", serialization_format="skops", registry=registry)
    refuse_pickles_in_registry_yaml(registry)
    loaded = gitreg.sklearn.load_model("models:/lr/1", registry=registry, allow_pickle=False)
    assert list(loaded.predict(X)) == list(seed_model.predict(X))


def test_a_follower_refusing_pickles_keeps_serving_the_skops_version(registry: Registry, seed_model: Any) -> None:
    pytest.importorskip("skops")
    from gitreg.server import create_app

    gitreg.sklearn.log_model(seed_model, "model", "lr", serialization_format="skops", registry=registry)
    registry.promote("lr", 1, "production")
    app = create_app("models:/lr/Production", registry=registry, follow=True, allow_pickle=False)
    gitreg.sklearn.log_model(seed_model, "model", "lr", registry=registry)
    registry.promote("lr", 2, "production")
    lines = app.models.sync()
    assert any("refusing the new version of lr" in line and "still serving version 1" in line for line in lines)
    served = app.models.get("lr")
    assert served is not None and served.metadata.version == 1


def test_predict_and_serve_with_no_pickle_refuse_in_one_line(pickled: Registry, env: dict[str, str], tmp_path: Path):
    rows = tmp_path / "rows.json"
    rows.write_text('{"dataframe_split": {"columns": ["x"], "data": [[1]]}}')
    registry = ("-r", str(pickled.path))
    runs = [
        testing.run_cli("predict", "-m", "models:/lr/1", "-i", str(rows), "--no-pickle", *registry, env=env),
        testing.run_cli(
            "serve", "-m", "models:/lr/1", "--port", str(testing.free_port()), "--no-pickle", *registry, env=env
        ),
    ]
    for proc in runs:
        assert proc.returncode == 1, proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert line.startswith("Error: models:/lr/1 is stored with cloudpickle") and "--no-pickle" in line
    ok = testing.run_cli("predict", "-m", "models:/lr/1", "-i", str(rows), *registry, env=env)
    assert ok.returncode == 0, ok.stderr
