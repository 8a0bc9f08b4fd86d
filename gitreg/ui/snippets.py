"""Copy-and-paste snippets for a version: its URI, Python loading code, the
serve command and a scoring request built from its input example."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

SERVE_PORT = 5001


@dataclass(frozen=True)
class Snippets:
    uri: str
    python: str
    serve: str
    curl: str | None  # None when the version has no usable input example


def scoring_body(example: bytes | None) -> dict[str, object] | None:
    """The ``/invocations`` body for an input example saved as MLflow saves it:
    split-oriented JSON (``{"columns": ..., "data": ...}``) becomes
    ``{"dataframe_split": ...}``; a tensor example (``{"inputs": ...}``) is
    sent as it is. None if the example is missing or not one of those."""
    if example is None:
        return None
    try:
        data = json.loads(example)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict) and "columns" in data and "data" in data:
        return {"dataframe_split": {"columns": data["columns"], "data": data["data"]}}
    if isinstance(data, dict) and "inputs" in data:
        return {"inputs": data["inputs"]}
    return None


def for_version(name: str, version: int, registry_path: str, example: bytes | None) -> Snippets:
    uri = f"models:/{name}/{version}"
    python = (
        "import gitreg\n\n"
        f"gitreg.set_registry({registry_path!r})\n"
        f"model = gitreg.pyfunc.load_model({uri!r})\n"
        "predictions = model.predict(data)  # data: a pandas DataFrame"
    )
    serve = f"gitreg -r {shlex.quote(registry_path)} serve -m {shlex.quote(uri)} --port {SERVE_PORT}"
    body = scoring_body(example)
    curl = None
    if body is not None:
        curl = (
            f"curl -X POST http://127.0.0.1:{SERVE_PORT}/invocations \\\n"
            "  -H 'Content-Type: application/json' \\\n"
            f"  -d {shlex.quote(json.dumps(body))}"
        )
    return Snippets(uri, python, serve, curl)
