"""The models page's search box: text is searched for, an MLflow filter is
applied with the client's parser, and a malformed filter is the page's error
(400, the message, the query kept in the box), never "0 models"."""

from __future__ import annotations

import html
import re

import falcon.testing
import pytest
from ui_support import MODEL, OTHER

from gitreg.registry import Registry
from gitreg.ui.app import Settings, create_app

HOST = {"Host": "localhost:5000"}


@pytest.fixture
def client(ui_registry: Registry) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(Settings(str(ui_registry.path))))


def listed(page: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'<a class="model-name" href="[^"]*">([^<]*)</a>', page)]


def search(client: falcon.testing.TestClient, q: str) -> falcon.testing.Result:
    return client.simulate_get("/", params={"q": q}, headers=HOST)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("iris", [MODEL]),
        ("growth", [OTHER]),
        ("name LIKE 'iris%'", [MODEL]),
        ("tags.team = 'growth'", [OTHER]),
        ("tags.team ILIKE 'VISION' AND name != 'x'", [MODEL]),
        (f"name IN ('{OTHER}', 'nope')", [OTHER]),
        ("name != 'nope'", [OTHER, MODEL]),
    ],
)
def test_search_box_applies_text_and_mlflow_filters(
    client: falcon.testing.TestClient, query: str, expected: list[str]
) -> None:
    resp = search(client, query)
    assert resp.status_code == 200
    assert sorted(listed(resp.text)) == sorted(expected)
    assert 'role="alert"' not in resp.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f"name='{MODEL}' OR name='{OTHER}'", "Only AND is supported"),
        ("name = 'iris", "Unterminated string"),
        ("colour = 'red'", "Invalid attribute key &#x27;colour&#x27;"),
        ("name = iris", "Expected a quoted string value"),
        ("foo LIKE 'x'", "Invalid attribute key &#x27;foo&#x27;"),
        ("version_number > 1", "Invalid attribute key &#x27;version_number&#x27;"),
    ],
)
def test_a_malformed_filter_is_the_pages_error_not_an_empty_listing(
    client: falcon.testing.TestClient, query: str, message: str
) -> None:
    resp = search(client, query)
    assert resp.status_code == 400
    alert = re.search(r'<div class="error" role="alert">(.*?)</div>', resp.text, re.S)
    assert alert is not None and message in alert.group(1), resp.text
    assert "character" in alert.group(1)
    assert "0 models" not in resp.text and "No registered models match" not in resp.text
    assert 'name="q"' in resp.text and html.escape(query, quote=True) in resp.text  # kept in the box to correct
