"""``create_app`` in-process: what only a hook can show (a model still loading) and the factory's refusals."""

from __future__ import annotations

import time
from pathlib import Path

import falcon.testing
import pytest
from served_models import Constant, Gated, register

from gitreg.errors import InvalidInputError, NotFoundError
from gitreg.registry import Registry
from gitreg.server import create_app


def test_ping_is_503_until_the_model_is_loaded_then_200(registry: Registry, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    register(registry, "Gated", Gated(str(gate)))
    client = falcon.testing.TestClient(
        create_app("models:/Gated/1", background_load=True), headers={"Host": "localhost"}
    )

    for path in ("/ping", "/health"):
        resp = client.simulate_get(path)
        assert resp.status_code == 503
        assert resp.json["error_code"] == "TEMPORARILY_UNAVAILABLE"
    scored = client.simulate_post("/invocations", json={"inputs": [[1]]})
    assert (scored.status_code, scored.json["error_code"]) == (503, "TEMPORARILY_UNAVAILABLE")

    gate.touch()
    deadline = time.monotonic() + 60
    while client.simulate_get("/ping").status_code != 200:
        assert time.monotonic() < deadline, "the model never finished loading"
        time.sleep(0.02)
    assert client.simulate_get("/health").status_code == 200
    assert client.simulate_post("/invocations", json={"inputs": [[1]]}).json == {"predictions": [1]}


def test_factory_refuses_a_uri_and_a_stage_together(registry: Registry) -> None:
    register(registry, "Echo", Constant(1))
    with pytest.raises(InvalidInputError, match="not both"):
        create_app("models:/Echo/1", stage="production")
    with pytest.raises(InvalidInputError, match="not both"):
        create_app()


def test_factory_refuses_an_empty_stage_unless_following(registry: Registry) -> None:
    register(registry, "Echo", Constant(1))
    with pytest.raises(NotFoundError, match="holds no models"):
        create_app(stage="production")
    app = create_app(stage="production", follow=True)
    client = falcon.testing.TestClient(app, headers={"Host": "localhost"})
    try:
        assert client.simulate_get("/ping").status_code == 200
        assert client.simulate_get("/metadata").json == {"stage": "Production", "models": {}}
    finally:
        app.stop_following()


def test_factory_refuses_to_follow_a_fixed_version(registry: Registry) -> None:
    register(registry, "Echo", Constant(1))
    with pytest.raises(InvalidInputError, match="fixed version"):
        create_app("models:/Echo/1", follow=True)
