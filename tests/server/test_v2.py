"""The Open Inference Protocol (KServe V2) beside /invocations, against real ``gitreg serve`` processes.

Requests are written by hand from the protocol's REST specification
(kserve/open-inference-protocol, specification/protocol/inference_rest.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import falcon.testing
import numpy as np
import pandas as pd
import pytest
from served_models import Constant, Gated, register, register_seed, seed_server

import gitreg.sklearn
from gitreg import testing
from gitreg.registry import Registry
from gitreg.server import create_app

SEED = "/v2/models/LogisticRegression"


def serve(registry: Registry, env: dict[str, str], *args: str) -> testing.ScoringServer:
    return testing.ScoringServer(*args, "-r", str(registry.path), env=env)


def infer_body(*tensors: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"inputs": list(tensors), **extra})


def tensor(name: str, datatype: str, shape: list[int], data: list[Any]) -> dict[str, Any]:
    return {"name": name, "datatype": datatype, "shape": shape, "data": data}


def register_two_columns(registry: Registry) -> None:
    """'Credit': a LogisticRegression over columns a (double) and b (long), fitted on arrays."""
    from sklearn.linear_model import LogisticRegression

    X = np.array([[0.0, 5], [1.0, 4], [2.0, 1], [3.0, 0], [0.5, 6], [2.5, 1]])
    y = np.array([0, 0, 1, 1, 0, 1])
    gitreg.sklearn.log_model(
        LogisticRegression().fit(X, y),
        "model",
        registered_model_name="Credit",
        input_example=pd.DataFrame({"a": [0.0, 3.0], "b": np.array([5, 0], dtype="int64")}),
        registry=registry,
    )


@pytest.fixture(scope="module")
def seed_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.ScoringServer]:
    """One server of the seed model for the tests that only send it requests."""
    with seed_server(tmp_path_factory.mktemp("v2-seed"), max_body=1 << 20) as srv:
        yield srv


@pytest.fixture
def seeded(registry: Registry) -> Registry:
    register_seed(registry)
    return registry


def test_v2_infer_predicts_what_invocations_predicts_for_the_seed_model(seeded: Registry, env: dict[str, str]) -> None:
    with serve(seeded, env, "-m", "models:/LogisticRegression/1") as srv:
        mlflow = srv.post("/invocations", '{"dataframe_split": {"columns": ["x"], "data": [[1], [-1], [2]]}}')
        flat = srv.post(f"{SEED}/infer", infer_body(tensor("x", "FP64", [3], [1, -1, 2]), id="req-42"))
        nested = srv.post(f"{SEED}/versions/1/infer", infer_body(tensor("x", "INT32", [3, 1], [[1], [-1], [2]])))

    assert mlflow.json() == {"predictions": [1, 0, 1]}
    assert flat.status == 200, flat.body
    assert flat.json() == {
        "model_name": "LogisticRegression",
        "model_version": "1",
        "id": "req-42",
        "outputs": [{"name": "predict", "datatype": "INT64", "shape": [3], "data": [1, 0, 1]}],
    }
    assert nested.status == 200, nested.body
    assert nested.json()["outputs"][0]["data"] == mlflow.json()["predictions"]
    assert "id" not in nested.json()


def test_v2_maps_one_tensor_per_column_in_any_order_for_a_multi_column_model(
    registry: Registry, env: dict[str, str]
) -> None:
    register_two_columns(registry)
    rows = [[0.2, 6], [2.8, 0], [1.5, 2]]
    with serve(registry, env, "-m", "models:/Credit/1") as srv:
        mlflow = srv.post("/invocations", json.dumps({"dataframe_split": {"columns": ["a", "b"], "data": rows}}))
        v2 = srv.post(
            "/v2/models/Credit/infer",
            infer_body(
                tensor("b", "INT64", [3], [r[1] for r in rows]),
                tensor("a", "FP32", [3, 1], [[r[0]] for r in rows]),
                outputs=[{"name": "predict"}],
            ),
        )
        metadata = srv.request("GET", "/v2/models/Credit").json()

    assert mlflow.status == 200 and v2.status == 200, v2.body
    assert v2.json()["outputs"][0]["data"] == mlflow.json()["predictions"]
    assert metadata["inputs"] == [
        {"name": "a", "datatype": "FP64", "shape": [-1]},
        {"name": "b", "datatype": "INT64", "shape": [-1]},
    ]


def test_v2_takes_one_two_dimensional_tensor_for_a_tensor_signature(registry: Registry, env: dict[str, str]) -> None:
    gitreg.sklearn.log_model(
        testing.seed_model(),
        "model",
        registered_model_name="Arrays",
        input_example=np.array([[1.0], [-1.0]]),
        registry=registry,
    )
    with serve(registry, env, "-m", "models:/Arrays/1") as srv:
        metadata = srv.request("GET", "/v2/models/Arrays").json()
        mlflow = srv.post("/invocations", '{"inputs": [[1], [-1], [2]]}')
        v2 = srv.post("/v2/models/Arrays/infer", infer_body(tensor("input-0", "FP64", [3, 1], [1, -1, 2])))
        two = srv.post(
            "/v2/models/Arrays/infer",
            infer_body(tensor("p", "FP64", [1, 1], [1]), tensor("q", "FP64", [1, 1], [1])),
        )

    assert metadata["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 1]}]
    assert v2.json()["outputs"][0]["data"] == mlflow.json()["predictions"] == [1, 0, 1]
    assert two.status == 400 and "one input tensor" in two.json()["error"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (infer_body(tensor("y", "FP64", [1], [1.0])), ["unknown input 'y'", "'x'"]),
        (infer_body(tensor("x", "BYTES", [1], ["1.0"])), ["datatype BYTES", "double", "FP64"]),
        (infer_body(tensor("x", "FLOAT", [1], [1.0])), ["unknown datatype FLOAT"]),
        (infer_body(tensor("x", "INT64", [2], [1.5, 2])), ["INT64 data must be whole numbers"]),
        (infer_body(tensor("x", "INT8", [1], [300])), ["300 is out of range for INT8"]),
        (infer_body(tensor("x", "FP64", [2], [1.0, 2.0, 3.0])), ["shape [2] needs 2 elements", "holds 3"]),
        (infer_body(tensor("x", "FP64", [3, 1], [[1.0, 2.0, 3.0]])), ["shape [3, 1]", "shaped [1, 3]"]),
        (infer_body(tensor("x", "FP64", [2, 2], [1, 2, 3, 4])), ["one column", "[2, 2]"]),
        (infer_body(tensor("x", "FP64", [1], [[1.0], 2.0])), ["ragged"]),
        ('{"inputs": [', ["malformed JSON at line 1"]),
        ('{"inputs": []}', ["non-empty array"]),
        ('{"instances": [[1]]}', ["unknown keys 'instances'"]),
        (infer_body(tensor("x", "FP64", [1], [1.0]), id=7), ["'id' must be a string"]),
        (infer_body(tensor("x", "FP64", [1], [1.0]), outputs=[{"name": "proba"}]), ["unknown output 'proba'"]),
    ],
)
def test_v2_refuses_bad_requests_with_400_and_an_error_object(
    seed_srv: testing.ScoringServer, body: str, words: list[str]
) -> None:
    resp = seed_srv.post(f"{SEED}/infer", body)
    assert resp.status == 400, resp.body
    doc = resp.json()
    assert list(doc) == ["error"]
    for word in words:
        assert word in doc["error"]


def test_v2_answers_404_with_an_error_object_for_what_is_not_served(seeded: Registry, env: dict[str, str]) -> None:
    one = infer_body(tensor("x", "FP64", [1], [1.0]))
    with serve(seeded, env, "-m", "models:/LogisticRegression/1") as srv:
        unknown_model = srv.post("/v2/models/Nope/infer", one)
        unknown_version = srv.post(f"{SEED}/versions/2/infer", one)
        version_metadata = srv.request("GET", f"{SEED}/versions/2")
        version_ready = srv.request("GET", f"{SEED}/versions/2/ready")
        unknown_route = srv.request("GET", "/v2/repository/index")
        wrong_method = srv.request("DELETE", SEED)
        mlflow_route = srv.request("GET", "/nothing-here")

    assert unknown_model.status == 404
    assert unknown_model.json() == {"error": "model 'Nope' is not served here; served: LogisticRegression"}
    for resp in (unknown_version, version_metadata, version_ready):
        assert resp.status == 404
        assert resp.json() == {
            "error": "version '2' of model 'LogisticRegression' is not served here; this server serves version 1"
        }
    assert unknown_route.status == 404 and list(unknown_route.json()) == ["error"]
    assert wrong_method.status == 405 and list(wrong_method.json()) == ["error"]
    assert "error_code" in mlflow_route.json()  # outside /v2 errors keep MLflow's shape


def test_signature_refusals_read_the_same_on_both_protocols(registry: Registry, env: dict[str, str]) -> None:
    register_two_columns(registry)
    with serve(registry, env, "-m", "models:/Credit/1") as srv:
        mlflow = srv.post("/invocations", '{"dataframe_split": {"columns": ["a"], "data": [[1.0]]}}')
        v2 = srv.post("/v2/models/Credit/infer", infer_body(tensor("a", "FP64", [1], [1.0])))
        not_whole = srv.post("/invocations", '{"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 1.5]]}}')
        not_whole_v2 = srv.post(
            "/v2/models/Credit/infer",
            infer_body(tensor("a", "FP64", [1], [1.0]), tensor("b", "FP64", [1], [1.5])),
        )

    assert mlflow.status == v2.status == 400
    assert "missing column(s) 'b'" in v2.json()["error"]
    assert v2.json()["error"] == mlflow.json()["message"]
    assert not_whole.status == not_whole_v2.status == 400
    assert not_whole_v2.json()["error"] == not_whole.json()["message"]


def test_v2_health_and_metadata_describe_the_served_version(seeded: Registry, env: dict[str, str]) -> None:
    with serve(seeded, env, "-m", "models:/LogisticRegression/1") as srv:
        server = srv.request("GET", "/v2").json()
        live = srv.request("GET", "/v2/health/live")
        ready = srv.request("GET", "/v2/health/ready")
        model_ready = srv.request("GET", f"{SEED}/versions/1/ready")
        metadata = srv.request("GET", f"{SEED}/versions/1").json()

    assert server == {"name": "gitreg", "version": gitreg.__version__, "extensions": []}
    assert (live.status, live.json()) == (200, {"live": True})
    assert (ready.status, ready.json()) == (200, {"ready": True})
    assert (model_ready.status, model_ready.json()) == (200, {"name": "LogisticRegression", "ready": True})
    assert metadata == {
        "name": "LogisticRegression",
        "versions": ["1"],
        "platform": "sklearn",
        "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]}],
        "outputs": [],
    }


def test_stage_server_answers_v2_for_every_model_of_the_stage(seeded: Registry, env: dict[str, str]) -> None:
    register(seeded, "Echo", Constant(7))
    seeded.promote("LogisticRegression", 1, "Production")
    seeded.promote("Echo", 1, "Production")
    with serve(seeded, env, "--stage", "production") as srv:
        seed = srv.post(f"{SEED}/infer", infer_body(tensor("x", "FP64", [2], [1, -1])))
        echo = srv.post("/v2/models/Echo/versions/1/infer", infer_body(tensor("input", "INT64", [2, 1], [1, 2])))
        echo_mlflow = srv.post("/models/Echo/invocations", '{"inputs": [[1], [2]]}')
        missing = srv.request("GET", "/v2/models/Other/ready")

    assert seed.json()["outputs"][0]["data"] == [1, 0]
    assert echo.json()["model_version"] == "1"
    assert echo.json()["outputs"][0]["data"] == echo_mlflow.json()["predictions"] == [7, 7]
    assert missing.status == 404 and "served: Echo, LogisticRegression" in missing.json()["error"]


def test_v2_readiness_is_503_until_the_model_is_loaded_as_ping_is(registry: Registry, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    register(registry, "Gated", Gated(str(gate)))
    client = falcon.testing.TestClient(
        create_app("models:/Gated/1", background_load=True), headers={"Host": "localhost"}
    )
    one = {"inputs": [tensor("input", "INT64", [1], [1])]}

    assert client.simulate_get("/ping").status_code == 503
    assert client.simulate_get("/v2/health/live").json == {"live": True}
    ready = client.simulate_get("/v2/health/ready")
    assert (ready.status_code, ready.json["ready"]) == (503, False)
    model_ready = client.simulate_get("/v2/models/Gated/ready")
    assert (model_ready.status_code, model_ready.json["ready"]) == (503, False)
    loading = client.simulate_post("/v2/models/Gated/infer", json=one)
    assert loading.status_code == 503 and "still loading" in loading.json["error"]

    gate.touch()
    deadline = time.monotonic() + 60
    while client.simulate_get("/ping").status_code != 200:
        assert time.monotonic() < deadline, "the model never finished loading"
        time.sleep(0.02)
    assert client.simulate_get("/v2/health/ready").json == {"ready": True}
    assert client.simulate_get("/v2/models/Gated/ready").json == {"name": "Gated", "ready": True}
    assert client.simulate_post("/v2/models/Gated/infer", json=one).json["outputs"][0]["data"] == [1]


def test_v2_refuses_the_binary_tensor_extension(seeded: Registry, env: dict[str, str]) -> None:
    with serve(seeded, env, "-m", "models:/LogisticRegression/1") as srv:
        resp = srv.request(
            "POST",
            f"{SEED}/infer",
            b'{"inputs": []}\x00\x00',
            {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": "14"},
        )
    assert resp.status == 415 and "binary tensor data extension" in resp.json()["error"]


def test_v2_metadata_lists_each_named_tensor_of_a_several_tensor_signature() -> None:
    from gitreg.server.v2.tensors import TensorMeta, input_tensors, output_tensors
    from gitreg.signature import Signature, TensorSchema, TensorSpec

    two = TensorSchema((TensorSpec("float64", (-1, 2), "image"), TensorSpec("int64", (-1,), "mask")))
    signature = Signature(inputs=two, outputs=TensorSchema((TensorSpec("float32", (-1, 3), "scores"),)))
    assert input_tensors(signature) == [TensorMeta("image", "FP64", (-1, 2)), TensorMeta("mask", "INT64", (-1,))]
    assert output_tensors(signature) == [TensorMeta("scores", "FP32", (-1, 3))]
