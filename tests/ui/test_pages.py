"""Pages rendered straight from a registry (no server): what only git knows
shows up, such as the pull request a stage move came through."""

from __future__ import annotations

from typing import Any

from ui_support import MODEL

from gitreg.history import model_history
from gitreg.registry import Registry
from gitreg.ui import pages


def model_page(reg: Registry) -> str:
    return pages.model_page(
        reg.record(MODEL), reg.list_versions(MODEL), model_history(reg, MODEL), metric=None, forms=None
    )


def merge_on_forge(reg: Registry, git_in: Any, message: str, *, merge_commit: bool) -> None:
    """What a forge does when a proposal's pull request is merged."""
    proposal = reg.propose(MODEL, 4, "Production")
    repo = reg.path
    head = git_in(repo, "rev-parse", "stages/production").strip()
    parents = ["-p", head, "-p", proposal.commit] if merge_commit else ["-p", head]
    commit = git_in(repo, "commit-tree", f"{proposal.commit}^{{tree}}", *parents, "-m", message).strip()
    git_in(repo, "update-ref", "refs/heads/stages/production", commit, head)


def test_squash_merged_pull_request_shows_in_the_timeline(ui_registry: Registry, git_in: Any) -> None:
    merge_on_forge(ui_registry, git_in, f"Promote {MODEL} version 4 to Production (#12)", merge_commit=False)
    assert ui_registry.stage_ref_version(MODEL, "production").version == 4  # type: ignore[union-attr]
    html = model_page(ui_registry)
    assert "via pull request #12" in html


def test_merge_commit_of_a_pull_request_shows_in_the_timeline(ui_registry: Registry, git_in: Any) -> None:
    merge_on_forge(ui_registry, git_in, "Merge pull request #7 from alice/promote", merge_commit=True)
    assert ui_registry.stage_ref_version(MODEL, "production").version == 4  # type: ignore[union-attr]
    newest = ui_registry.stage_history(MODEL, ["production"])[0]
    assert (newest.subject, newest.previous, newest.version) == ("Merge pull request #7 from alice/promote", 3, 4)
    html = model_page(ui_registry)
    assert "via pull request #7" in html


def test_a_model_with_hundreds_of_versions_takes_typed_numbers_to_compare(ui_registry: Registry) -> None:
    """Two lists of every version would outweigh the page; the form takes numbers in range instead."""
    html = pages.model_page(
        ui_registry.record(MODEL),
        ui_registry.list_versions(MODEL),
        model_history(ui_registry, MODEL),
        metric=None,
        forms=None,
        numbers=range(1, 301),
        page_no=2,
        pages=6,
    )
    assert '<input type="number" name="a" value="299" min="1" max="300" required>' in html
    assert '<input type="number" name="b" value="300" min="1" max="300" required>' in html
    assert "<option" not in html.split("compare-form", 1)[1].split("</form>", 1)[0]
    assert "300 versions" in html and "Page 2 of 6" in html
