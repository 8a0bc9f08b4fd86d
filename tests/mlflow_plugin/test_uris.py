"""Which registry and which version a gitreg URI names."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitreg.errors import InvalidInputError
from gitreg.mlflow_plugin import uris


def test_absolute_path_uri_names_a_local_registry() -> None:
    parsed = uris.parse_registry_uri("gitreg:///srv/models/registry")
    assert (parsed.location, parsed.uri) == ("/srv/models/registry", "gitreg:///srv/models/registry")


def test_relative_uri_is_made_absolute_against_the_working_directory(tmp_path: Path) -> None:
    parsed = uris.parse_registry_uri("gitreg:team/registry")
    assert parsed.location == str(tmp_path / "team" / "registry")
    assert parsed.uri == f"gitreg://{tmp_path}/team/registry"


@pytest.mark.parametrize(
    ("uri", "git_url"),
    [
        ("gitreg+file:///srv/registry.git", "file:///srv/registry.git"),
        ("gitreg+ssh://git@forge.example/team/registry.git", "ssh://git@forge.example/team/registry.git"),
        ("gitreg+https://forge.example/team/registry.git", "https://forge.example/team/registry.git"),
    ],
)
def test_transport_uris_name_the_git_url(uri: str, git_url: str) -> None:
    parsed = uris.parse_registry_uri(uri)
    assert (parsed.location, parsed.uri) == (git_url, uri)


@pytest.mark.parametrize("uri", ["gitreg://host/path", "gitreg:", "http://x/y", "gitreg:///a?b=c", "gitreg+ftp://h/r"])
def test_other_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidInputError):
        uris.parse_registry_uri(uri)


def test_version_uri_round_trips_names_that_need_quoting() -> None:
    registry = uris.parse_registry_uri("gitreg+https://forge.example/r.git")
    parsed = uris.parse_version_uri(registry.version_uri("fraud model&co", 12))
    assert (parsed.registry, parsed.name, parsed.version) == (registry, "fraud model&co", 12)


@pytest.mark.parametrize("uri", ["gitreg:///r", "gitreg:///r?model=M", "gitreg:///r?model=M&version=x"])
def test_a_uri_without_a_version_names_no_artifacts(uri: str) -> None:
    with pytest.raises(InvalidInputError):
        uris.parse_version_uri(uri)
