"""Names are checked at the boundary: safe on every filesystem and in git refs."""

from __future__ import annotations

import pytest

from gitreg.errors import InvalidInputError
from gitreg.names import check_model_name, check_stage_name, check_tags, check_version, display_stage


@pytest.mark.parametrize("name", ["LogisticRegression", "fraud-model", "m.v2", "A_1", "x" * 100])
def test_valid_model_names_are_accepted_unchanged(name: str) -> None:
    assert check_model_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "-rf", ".hidden", "a/b", "..", "a..b", "a.lock", "a.", "a b", "a\nb", "a\x00b", "é", "x" * 101, "con", "a@{1}",
     "a%2F", "a\\b", "a:b", "a~1", "a^", "a*", "a?", "a[", 3, None],
)  # fmt: skip
def test_unsafe_model_names_are_refused_with_a_reason(name: object) -> None:
    with pytest.raises(InvalidInputError, match="name"):
        check_model_name(name)


def test_stage_names_are_case_insensitive_and_canonical_lower_case() -> None:
    assert check_stage_name("Production") == check_stage_name("PRODUCTION") == "production"
    assert display_stage("production") == "Production"
    assert display_stage("champion") == "champion"


@pytest.mark.parametrize("stage", ["None", "latest", "HEAD", "", "-x", "a/b", "1st", "a.lock", "x" * 65, "st age"])
def test_reserved_or_unsafe_stage_names_are_refused(stage: str) -> None:
    with pytest.raises(InvalidInputError):
        check_stage_name(stage)


@pytest.mark.parametrize("version", [0, -1, "x", "1.5", True, "", "٣", 1.0])
def test_versions_must_be_positive_integers(version: object) -> None:
    with pytest.raises(InvalidInputError):
        check_version(version)


def test_versions_accept_digit_strings() -> None:
    assert check_version("3") == 3


def test_tag_keys_refuse_control_characters_and_values_become_strings() -> None:
    assert check_tags({"k": 1, "flag": True}) == {"k": "1", "flag": "True"}
    with pytest.raises(InvalidInputError):
        check_tags({"bad\nkey": "v"})
