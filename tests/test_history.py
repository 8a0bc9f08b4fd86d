"""History shows stage moves merged from pull requests as the merge, whatever the forge wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.gitcli import git

from gitreg.history import PullRequest, model_history, pull_request_of
from gitreg.registry import Registry
from gitreg.testing import file_package, run_cli


def by(who: str) -> dict[str, str]:
    """The environment that makes ``who`` a commit's author and committer."""
    return {"GIT_AUTHOR_NAME": who, "GIT_COMMITTER_NAME": who, "GIT_AUTHOR_EMAIL": f"{who.lower()}@example.com"}


def two_versions_v1_in_production(registry: Registry, tmp_path: Path) -> None:
    registry.register("m", file_package(tmp_path / "p1", {"model.bin": b"one"}))
    registry.register("m", file_package(tmp_path / "p2", {"model.bin": b"two"}))
    registry.promote("m", 1, "production")


def proposal(registry: Registry, tmp_path: Path, version: int) -> Path:
    """A clone on branch promote/production/m-vN: one commit that sets models/m to the tag's subtree."""
    work = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", f"file://{registry.path}", str(work))
    git(work, "checkout", "--quiet", "-b", f"promote/production/m-v{version}", "origin/stages/production")
    git(work, "rm", "--quiet", "-r", "models/m")
    git(work, "read-tree", "--prefix=models/m/", f"m/v{version}:models/m")
    git(work, "checkout", "--quiet", "--", ".")
    git(work, "commit", "--quiet", "-m", f"Promote m version {version} to Production", env=by("Proposer"))
    return work


def test_pull_request_merge_commit_is_the_stage_move(registry: Registry, tmp_path: Path) -> None:
    two_versions_v1_in_production(registry, tmp_path)
    work = proposal(registry, tmp_path, 2)
    git(work, "checkout", "--quiet", "-B", "stages/production", "origin/stages/production")
    message = "Merge pull request #12 from org/promote/production/m-v2\n\nPromote m version 2 to Production"
    git(work, "merge", "--quiet", "--no-ff", "-m", message, "promote/production/m-v2", env=by("Merger"))
    git(work, "push", "--quiet", "origin", "stages/production")
    merge = git(work, "rev-parse", "HEAD").strip()

    events = model_history(registry, "m", ["production"])
    assert [(e.version, e.previous) for e in events] == [(2, 1), (1, None)]
    top = events[0]
    assert top.commit == merge and top.author.startswith("Merger")
    assert top.pull_request == PullRequest("merge", 12, "org/promote/production/m-v2")
    assert "(merge #12 from org/promote/production/m-v2)" in top.describe()
    assert events[1].pull_request is None  # promoted directly with gitreg
    assert registry.stages_of("m") == {"production": 2}


def test_squash_merged_pull_request_is_recognised(registry: Registry, tmp_path: Path) -> None:
    two_versions_v1_in_production(registry, tmp_path)
    work = proposal(registry, tmp_path, 2)
    git(work, "checkout", "--quiet", "-B", "stages/production", "origin/stages/production")
    git(work, "merge", "--quiet", "--squash", "promote/production/m-v2")
    git(work, "commit", "--quiet", "-m", "Promote m version 2 to Production (#7)", env=by("Merger"))
    git(work, "push", "--quiet", "origin", "stages/production")
    out = run_cli("history", "m", "--stage", "Production", "--json", "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    events = json.loads(out.stdout)
    assert events[0]["pull_request"] == {"kind": "squash", "number": 7, "branch": None}
    assert events[0]["version"] == 2 and events[0]["stage"] == "Production"
    assert all(e["event"] == "stage" for e in events)  # --stage: no registrations


def test_history_table_names_the_pull_request(registry: Registry, tmp_path: Path) -> None:
    two_versions_v1_in_production(registry, tmp_path)
    work = proposal(registry, tmp_path, 2)
    git(work, "checkout", "--quiet", "-B", "stages/production", "origin/stages/production")
    body = "Merge branch 'promote/production/m-v2' into 'stages/production'\n\nSee merge request org/reg!5"
    git(work, "merge", "--quiet", "--no-ff", "-m", body, "promote/production/m-v2", env=by("Merger"))
    git(work, "push", "--quiet", "origin", "stages/production")
    out = run_cli("history", "m", "-r", str(registry.path))
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[1]
    assert "Production: version 1 -> version 2 (merge #5 from promote/production/m-v2)" in first
    assert "Merger" in first


@pytest.mark.parametrize(
    ("subject", "body", "expected"),
    [
        (
            "Merge pull request #12 from org/promote/production/m-v2",
            "",
            PullRequest("merge", 12, "org/promote/production/m-v2"),
        ),
        (
            "Merge branch 'promote/x' into 'stages/production'",
            "See merge request g/r!3",
            PullRequest("merge", 3, "promote/x"),
        ),
        ("Merge branch 'promote/x'", "", PullRequest("merge", None, "promote/x")),
        ("Promote m version 2 to Production (#7)", "", PullRequest("squash", 7, None)),
        ("Promote m version 2 to Production", "", None),
    ],
)
def test_pull_request_of(subject: str, body: str, expected: PullRequest | None) -> None:
    assert pull_request_of(subject, body) == expected


def test_latest_reads_the_newest_events_only_and_agrees_with_the_whole_history(
    registry: Registry, tmp_path: Path
) -> None:
    for i in range(5):
        registry.register("m", file_package(tmp_path / f"p{i}", {"model.bin": f"v{i}".encode()}))
    registry.promote("m", 2, "production")
    whole = model_history(registry, "m")
    assert [(e.event, e.version) for e in whole][:2] == [("stage", 2), ("registered", 5)]
    for n in (0, 1, 3, 6, 10):
        assert model_history(registry, "m", latest=n) == whole[:n]
