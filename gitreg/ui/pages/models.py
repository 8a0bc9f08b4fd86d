"""The models list: each model with its latest version and stages."""

from __future__ import annotations

from gitreg.names import display_stage, is_fixed_stage
from gitreg.overview import ModelSummary
from gitreg.ui.html import Safe, badge, join, link, render, table, url, when
from gitreg.ui.pages.common import first_line, tag_chips


def models_page(
    summaries: list[ModelSummary],
    *,
    query: str,
    total: int,
    page_no: int,
    pages: int,
    per_page: int,
    refused: bool = False,
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
    listing = (
        table(("Name", "Latest", "Stages", "Description", "Tags", "Last change"), rows, "models")
        if rows
        else Safe('<p class="empty">No registered models match.</p>')
    )
    pager = Safe("")
    if pages > 1:
        prev = link(url(q=query or None, page=page_no - 1), "← Previous") if page_no > 1 else Safe("")
        nxt = link(url(q=query or None, page=page_no + 1), "Next →") if page_no < pages else Safe("")
        pager = render('<nav class="pager">$p<span>Page $n of $t</span>$x</nav>', p=prev, n=page_no, t=pages, x=nxt)
    if refused:
        count = listing = pager = Safe("")
    return render(
        '<div class="page-head"><h1>Registered models</h1></div>$search$count$listing$pager',
        search=search,
        count=count,
        listing=listing,
        pager=pager,
    )
