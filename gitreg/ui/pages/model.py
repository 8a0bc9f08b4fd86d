"""One model: its versions, a metric across versions, its stage history."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gitreg.entities import ModelVersion
from gitreg.history import Event
from gitreg.manifest import ModelRecord
from gitreg.ui import chart
from gitreg.ui.html import Safe, badge, join, link, number, render, table, url, when
from gitreg.ui.links import commit_link, run_link
from gitreg.ui.listing import Listing, page_size_form, sort_header
from gitreg.ui.pages.common import (
    KEY_METRICS,
    Forms,
    description_block,
    first_line,
    metadata_forms,
    person,
    short,
    stage_badges,
    stages_of,
    tag_chips,
)
from gitreg.ui.pages.writes import delete_form

METRIC_SORT = "metric."


def version_sorts(asked: str | None) -> tuple[str, ...]:
    """The columns a versions table sorts by: number, time, author, or any metric (``metric.<key>``)."""
    base = ("version", "registered", "author")
    return (*base, asked) if asked and asked.startswith(METRIC_SORT) and len(asked) < 300 else base


def sort_versions(versions: list[ModelVersion], listing: Listing) -> list[ModelVersion]:
    """``versions`` in the listing's order; versions without the metric sorted by go last."""
    if listing.sort.startswith(METRIC_SORT):
        key = listing.sort[len(METRIC_SORT) :]
        having = [v for v in versions if key in v.metrics]
        rest = [v for v in versions if key not in v.metrics]
        having.sort(key=lambda v: v.metrics[key], reverse=listing.descending)
        return having + rest
    if listing.sort == "author":
        return sorted(versions, key=lambda v: (person(v.user_id).lower(), v.version), reverse=listing.descending)
    if listing.sort == "registered":
        return sorted(versions, key=lambda v: (v.creation_timestamp, v.version), reverse=listing.descending)
    return sorted(versions, key=lambda v: v.version, reverse=listing.descending)


def _metric_keys(versions: list[ModelVersion]) -> list[str]:
    keys: list[str] = []
    for v in versions:
        for k in v.metrics:
            if k not in keys:
                keys.append(k)
    return sorted(keys)


_PULL_REQUEST = re.compile(r"(?:pull request|merge request) ([#!]\d+)|\((#\d+)\)$", re.IGNORECASE)


def _pull_request(subject: str) -> Safe:
    """A chip naming the pull request a stage move came through, read from the
    subject forges give merge commits ("Merge pull request #12 from ...") and
    squash merges ("Title (#12)")."""
    m = _PULL_REQUEST.search(subject)
    if not m:
        return Safe("")
    return render(' <span class="chip pr">via pull request $n</span>', n=m.group(1) or m.group(2))


# The timeline shows this many of the newest events; `gitreg history` has them all.
TIMELINE_EVENTS = 50


def _timeline(events: list[Event], name: str) -> Safe:
    if not events:
        return Safe('<p class="muted">No history yet.</p>')
    items = []
    for e in events[:TIMELINE_EVENTS]:
        if e.event == "registered":
            what = render(
                'Version <a href="$h">$v</a> registered', h=url("models", name, "versions", e.version), v=e.version
            )
            kind = "registered"
        elif e.version is None:
            what = render("$b version $p removed", b=badge(e.stage or ""), p=e.previous)
            kind = "removed"
        else:
            was = f"from version {e.previous}" if e.previous else "(was empty)"
            what = render(
                '$b now holds <a href="$h">version $v</a> <span class="muted">$was</span>',
                b=badge(e.stage or ""),
                h=url("models", name, "versions", e.version),
                v=e.version,
                was=was,
            )
            kind = "moved"
        items.append(
            render(
                '<li class="event event-$kind"><div class="what">$what$pr</div>'
                '<div class="meta">$when · <span title="$who">$person</span> · $commit · '
                '<span class="subject">$subject</span></div></li>',
                kind=kind,
                what=what,
                pr=_pull_request(e.subject) if e.event == "stage" else Safe(""),
                when=when(e.time * 1000),
                who=e.author,
                person=person(e.author),
                commit=short(e.commit),
                subject=e.subject,
            )
        )
    more = Safe("")
    if len(events) > TIMELINE_EVENTS:
        more = render('<p class="muted count">The latest $n events.</p>', n=TIMELINE_EVENTS)
    return render('<ol class="timeline">$items</ol>$more', items=join(items), more=more)


# Past this many versions the compare form takes typed numbers: two lists
# of thousands of options would outweigh the page they sit on.
_LISTED_CHOICES = 200


def _version_choice(field: str, numbers: list[int], selected: int) -> Safe:
    if len(numbers) > _LISTED_CHOICES:
        return render(
            '<input type="number" name="$f" value="$v" min="$lo" max="$hi" required>',
            f=field,
            v=selected,
            lo=numbers[0],
            hi=numbers[-1],
        )
    options = join(
        render('<option value="$n"$sel>Version $n</option>', n=n, sel=Safe(" selected" if n == selected else ""))
        for n in numbers
    )
    return render('<select name="$f">$o</select>', f=field, o=options)


def model_page(
    record: ModelRecord,
    versions: list[ModelVersion],
    events: list[Event],
    *,
    metric: str | None,
    forms: Forms | None,
    numbers: Sequence[int] | None = None,
    page_no: int = 1,
    pages: int = 1,
    listing: Listing | None = None,
    remote: str | None = None,
) -> Safe:
    """``versions`` are the ones shown, in the order shown (a page of them when
    ``pages`` > 1); ``numbers`` every live version number, for the count and
    the compare form; ``remote`` the registry's remote, for commit links."""
    name = record.name
    listing = listing or Listing("version", "desc", 50)
    numbers = sorted(v.version for v in versions) if numbers is None else list(numbers)
    keys = _metric_keys(versions)
    shown = keys[:KEY_METRICS]
    keep = {"metric": metric}
    path = ("models", name)
    rows = []
    for v in versions:
        rows.append(
            (
                render(
                    '<input type="checkbox" name="v" value="$n" form="compare-many" aria-label="Compare version $n">',
                    n=v.version,
                ),
                link(url("models", name, "versions", v.version), f"Version {v.version}"),
                stage_badges(stages_of(v)),
                *(number(v.metrics[k]) if k in v.metrics else "" for k in shown),
                tag_chips(v.tags),
                render('<span class="desc" title="$d">$f</span>', d=v.description, f=first_line(v.description, 80)),
                render('<span title="$who">$p</span>', who=v.user_id, p=person(v.user_id)),
                when(v.creation_timestamp),
                commit_link(remote, v.commit),
                run_link(v.run_id),
            )
        )
    headers = (
        "",
        sort_header("Version", "version", listing, path, **keep),
        "Stages",
        *(sort_header(k, METRIC_SORT + k, listing, path, **keep) for k in shown),
        "Tags",
        "Description",
        sort_header("Author", "author", listing, path, **keep),
        sort_header("Registered", "registered", listing, path, **keep),
        "Commit",
        "Run id",
    )
    versions_table = (
        render(
            '<div class="scroll">$t</div><form id="compare-many" method="get" action="$a" class="inline">'
            '<button type="submit" class="secondary small">Compare checked versions</button></form>',
            t=table(headers, rows, "versions"),
            a=url("models", name, "compare"),
        )
        if rows
        else Safe('<p class="empty">No versions yet.</p>')
    )
    chosen = metric if metric in keys else (keys[0] if keys else None)
    chart_block = Safe("")
    if chosen:
        points = sorted((v.version, v.metrics[chosen]) for v in versions if chosen in v.metrics)
        options = join(
            render('<option value="$k"$sel>$k</option>', k=k, sel=Safe(" selected") if k == chosen else Safe(""))
            for k in keys
        )
        chart_block = render(
            '<section class="card"><div class="card-head"><h2>Metric across $which</h2>'
            '<form method="get" class="inline">$keep<label>Metric <select name="metric">$options</select></label>'
            '<button type="submit" class="secondary">Show</button></form></div>'
            '<div class="chart-box">$svg</div></section>',
            which="the versions on this page" if pages > 1 else "versions",
            keep=join(
                render('<input type="hidden" name="$k" value="$v">', k=k, v=v)
                for k, v in listing.query(page=page_no if page_no > 1 else None).items()
                if v is not None
            ),
            options=options,
            svg=chart.line_chart(chosen, points),
        )
    compare = Safe("")
    if len(numbers) >= 2:
        compare = render(
            '<form method="get" action="$action" class="inline compare-form">'
            "<label>Compare $a</label><label>with $b</label>"
            '<button type="submit" class="secondary">Compare</button></form>',
            action=url("models", name, "compare"),
            a=_version_choice("a", numbers, numbers[-2]),
            b=_version_choice("b", numbers, numbers[-1]),
        )
    count = Safe("")
    pager = Safe("")
    if pages > 1:
        count = render(
            '<p class="muted count">$n versions · showing versions $hi to $lo</p>',
            n=len(numbers),
            hi=versions[0].version if versions else "",
            lo=versions[-1].version if versions else "",
        )
        q = listing.query(metric=metric)
        by_number = listing.sort == "version" and listing.descending
        newer = link(url(*path, **{**q, "page": page_no - 1}), "← Newer" if by_number else "← Previous")
        older = link(url(*path, **{**q, "page": page_no + 1}), "Older →" if by_number else "Next →")
        pager = render(
            '<nav class="pager">$p<span>Page $n of $t</span>$x</nav>',
            p=newer if page_no > 1 else Safe(""),
            n=page_no,
            t=pages,
            x=older if page_no < pages else Safe(""),
        )
    count = render('<div class="table-head">$c$s</div>', c=count, s=page_size_form(listing, path, **keep))
    edit = Safe("")
    if forms is not None:
        edit = join(
            [
                metadata_forms(forms, url("models", name), record.description, record.tags),
                delete_form(forms, url("models", name), f"model {name}"),
            ]
        )
    return render(
        """<nav class="crumbs"><a href="/">Models</a> / <span>$name</span></nav>
<div class="page-head"><h1>$name</h1><div class="chips">$tags</div></div>
$description
<section class="card"><div class="card-head"><h2>Versions</h2>$compare</div>$count$versions$pager</section>
$chart
<section class="card"><h2>History</h2>$timeline</section>
$edit""",
        name=name,
        tags=tag_chips(record.tags),
        description=description_block(record.description),
        compare=compare,
        count=count,
        versions=versions_table,
        pager=pager,
        chart=chart_block,
        timeline=_timeline(events, name),
        edit=edit,
    )
