"""Pull request URLs derived from remote URLs."""

from __future__ import annotations

import pytest

from gitreg.forge import pull_request_url

SRC, DST = "promote/production/M-v2", "stages/production"
GITHUB = "https://github.com/acme/models/compare/stages/production...promote/production/M-v2?expand=1"
GITLAB = (
    "https://gitlab.com/acme/ml/models/-/merge_requests/new"
    "?merge_request[source_branch]=promote%2Fproduction%2FM-v2&merge_request[target_branch]=stages%2Fproduction"
)


@pytest.mark.parametrize(
    "remote",
    [
        "git@github.com:acme/models.git",
        "ssh://git@github.com/acme/models.git",
        "https://github.com/acme/models.git",
        "https://github.com/acme/models",
        "https://token@github.com/acme/models.git/",
    ],
)
def test_github_compare_url_from_every_remote_form(remote: str) -> None:
    assert pull_request_url(remote, SRC, DST) == GITHUB


@pytest.mark.parametrize(
    "remote",
    [
        "git@gitlab.com:acme/ml/models.git",
        "ssh://git@gitlab.com:22/acme/ml/models.git",
        "https://gitlab.com/acme/ml/models",
    ],
)
def test_gitlab_merge_request_url_keeps_subgroups(remote: str) -> None:
    assert pull_request_url(remote, SRC, DST) == GITLAB


@pytest.mark.parametrize("remote", ["file:///srv/registry.git", "/srv/registry.git", "git@example.org:a/b.git"])
def test_other_hosts_have_no_pull_request_url(remote: str) -> None:
    assert pull_request_url(remote, SRC, DST) is None
