"""The models list: each model with its latest version and stages."""

from __future__ import annotations

from gitreg.names import display_stage, is_fixed_stage
from gitreg.overview import ModelSummary
from gitreg.ui.html import Safe, badge, join, link, render, table, url, when
from gitreg.ui.listing import Listing, page_size_form, pager, sort_header
from gitreg.ui.pages.common import first_line, tag_chips

SORTS = ("name", "latest", "last_change")


def models_page(
    summaries: list[ModelSummary],
    *,
    query: str,
    total: int,
    page_no: int,
    pages: int,
    per_page: int,
    refused: bool = False,
    listing: Listing | None = None,
) -> Safe:
    """The listing; with ``refused`` (the query was a malformed filter, whose
    message the page shows) only the search box, to correct it in."""
    search = render(
        '<form method="get" action="/" class="search" role="search">'
        '<input type="search" name="q" value="$q" placeholder="Filter by name or tag, or an MLflow filter: '
        'tags.team = \'ml\'" aria-label="Filter models">'
        '<button type="submit">Filter</button>$clear</form>',
        q=query,
        clear=link("/", "Clear", "button secondary") if query else Safe(""),
    )
    listing = listing or Listing("name", "asc", per_page)
    rows = []
    for s in summaries:
        latest = link(url("models", s.name, "versions", s.latest), f"v{s.latest}") if s.latest else "—"
        stages = join(
            (
                render(
                    '<span class="stage-at">$b<a href="$href">v$v</a></span>',
                    b=badge(display_stage(st)),
                    v=v,
                    href=url("models", s.name, "versions", v),
                )
                for st, v in sorted(s.stages.items(), key=lambda kv: (not is_fixed_stage(kv[0]), kv[0]))
            ),
            " ",
        )
        rows.append(
            (
                render('<a class="model-name" href="$h">$n</a>', h=url("models", s.name), n=s.name),
                latest,
                stages or Safe('<span class="muted">—</span>'),
                render('<span class="desc">$d</span>', d=first_line(s.description)),
                tag_chips(s.tags),
                when(s.last_change),
            )
        )
    first = (page_no - 1) * per_page + 1 if total else 0
    count = render(
        '<p class="muted count">$what</p>',
        what=f"{total} model{'s' if total != 1 else ''}"
        + (f" matching “{query}”" if query else "")
        + (f" · showing {first} to {first + len(summaries) - 1}" if pages > 1 else ""),
    )
    keep = {"q": query or None}
    headers = (
        sort_header("Name", "name", listing, (), **keep),
        sort_header("Latest", "latest", listing, (), **keep),
        "Stages",
        "Description",
        "Tags",
        sort_header("Last change", "last_change", listing, (), **keep),
    )
    shown = (
        render('<div class="scroll">$t</div>', t=table(headers, rows, "models"))
        if rows
        else Safe('<p class="empty">No registered models match.</p>')
    )
    paging = pager(page_no, pages, (), listing, **keep)
    size_form = page_size_form(listing, (), **keep)
    if refused:
        count = shown = paging = size_form = Safe("")
    return render(
        '<div class="page-head"><h1>Registered models</h1></div>$search<div class="table-head">$count$size</div>'
        "$listing$pager",
        search=search,
        count=count,
        size=size_form,
        listing=shown,
        pager=paging,
    )
