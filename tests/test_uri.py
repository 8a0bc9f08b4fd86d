"""Model URIs parse into values with no I/O; malformed ones say what is expected."""

from __future__ import annotations

import pytest

from gitreg.errors import InvalidInputError
from gitreg.uri import ModelURI, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models:/LogisticRegression/2", ModelURI("version", "LogisticRegression", version=2)),
        ("models:/LogisticRegression/Production", ModelURI("stage", "LogisticRegression", stage="production")),
        ("models:/LogisticRegression/staging", ModelURI("stage", "LogisticRegression", stage="staging")),
        ("models:/LogisticRegression@champion", ModelURI("stage", "LogisticRegression", stage="champion")),
        ("models:/LogisticRegression/latest", ModelURI("latest", "LogisticRegression")),
        ("models:/LogisticRegression/Latest", ModelURI("latest", "LogisticRegression")),
        ("runs:/abc123/model", ModelURI("run", run_id="abc123", path="model")),
        ("/tmp/saved", ModelURI("path", path="/tmp/saved")),
        ("file:///tmp/saved", ModelURI("path", path="/tmp/saved")),
    ],
)
def test_accepted_forms_parse_into_values(text: str, expected: ModelURI) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    ["models:/", "models:/M", "models:/M/", "models:/M/1/2", "models://M/1", "models:/../1", "models:/M/0",
     "models:/-x/1", "models:/M@", "models:/M/None", "s3://bucket/m", "runs:/../model", "runs:/abc/../../etc", "",
     "models:/M/a b"],
)  # fmt: skip
def test_malformed_uris_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse(text)


def test_uri_strings_round_trip() -> None:
    for text in ["models:/M/3", "models:/M/production", "models:/M/latest", "runs:/abc/model"]:
        assert str(parse(text)) == text
