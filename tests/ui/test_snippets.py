"""Snippets: a curl request built from a version's input example."""

from __future__ import annotations

import json
import shlex

from gitreg.ui.snippets import for_version, scoring_body


def test_split_oriented_example_becomes_a_dataframe_split_request() -> None:
    example = json.dumps({"columns": ["x", "y"], "data": [[1, "a'b"]]}).encode()
    assert scoring_body(example) == {"dataframe_split": {"columns": ["x", "y"], "data": [[1, "a'b"]]}}
    curl = for_version("m", 2, "/reg", example).curl
    assert curl is not None
    body = shlex.split(curl.replace("\\\n", " "))[-1]  # the shell gets the JSON back intact
    assert json.loads(body) == {"dataframe_split": {"columns": ["x", "y"], "data": [[1, "a'b"]]}}


def test_tensor_example_is_sent_as_inputs() -> None:
    assert scoring_body(b'{"inputs": [[1, 2]]}') == {"inputs": [[1, 2]]}


def test_no_or_unusable_example_gives_no_curl() -> None:
    for example in (None, b"not json", b"[1, 2]", b'{"other": 1}'):
        assert for_version("m", 1, "/reg", example).curl is None


def test_uri_python_and_serve_name_the_version() -> None:
    s = for_version("iris", 3, "/data/reg", None)
    assert s.uri == "models:/iris/3"
    assert "gitreg.pyfunc.load_model('models:/iris/3')" in s.python and "'/data/reg'" in s.python
    assert s.serve == "gitreg -r /data/reg serve -m models:/iris/3 --port 5001"
