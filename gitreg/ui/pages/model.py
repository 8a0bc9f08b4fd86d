"""One model: its versions, a metric across versions, its stage history."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gitreg.entities import ModelVersion
from gitreg.history import Event
from gitreg.manifest import ModelRecord
from gitreg.ui import chart
from gitreg.ui.html import Safe, badge, join, link, number, render, table, url, when
from gitreg.ui.pages.common import (
    KEY_METRICS,
    Forms,
    description_block,
    metadata_forms,
    person,
    short,
    stage_badges,
    stages_of,
    tag_chips,
)


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
        more = render(
            '<p class="muted count">The latest $n events; <code>gitreg history $name</code> lists them all.</p>',
            n=TIMELINE_EVENTS,
            name=name,
        )
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
) -> Safe:
    """``versions`` are the ones shown (a page of them when ``pages`` > 1);
    ``numbers`` every live version number, for the count and the compare form."""
    name = record.name
    numbers = [v.version for v in versions] if numbers is None else list(numbers)
    keys = _metric_keys(versions)
    shown = keys[:KEY_METRICS]
    rows = []
    for v in reversed(versions):
        rows.append(
            (
                link(url("models", name, "versions", v.version), f"Version {v.version}"),
                stage_badges(stages_of(v)),
                *(number(v.metrics[k]) if k in v.metrics else "" for k in shown),
                render('<span title="$who">$p</span>', who=v.user_id, p=person(v.user_id)),
                when(v.creation_timestamp),
                short(v.commit),
                render("<code>$r</code>", r=v.run_id) if v.run_id else "",
            )
        )
    versions_table = (
        table(("Version", "Stages", *shown, "Author", "Registered", "Commit", "Run id"), rows, "versions")
        if rows
        else Safe('<p class="empty">No versions yet.</p>')
    )
    chosen = metric if metric in keys else (keys[0] if keys else None)
    chart_block = Safe("")
    if chosen:
        points = [(v.version, v.metrics[chosen]) for v in versions if chosen in v.metrics]
        options = join(
            render('<option value="$k"$sel>$k</option>', k=k, sel=Safe(" selected") if k == chosen else Safe(""))
            for k in keys
        )
        chart_block = render(
            '<section class="card"><div class="card-head"><h2>Metric across $which</h2>'
            '<form method="get" class="inline"><label>Metric <select name="metric">$options</select></label>'
            '$keep<button type="submit" class="secondary">Show</button></form></div>$svg</section>',
            which="the versions on this page" if pages > 1 else "versions",
            keep=render('<input type="hidden" name="page" value="$p">', p=page_no) if page_no > 1 else Safe(""),
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
            hi=versions[-1].version if versions else "",
            lo=versions[0].version if versions else "",
        )
        newer = link(url("models", name, metric=metric, page=page_no - 1), "← Newer") if page_no > 1 else Safe("")
        older = link(url("models", name, metric=metric, page=page_no + 1), "Older →") if page_no < pages else Safe("")
        pager = render('<nav class="pager">$p<span>Page $n of $t</span>$x</nav>', p=newer, n=page_no, t=pages, x=older)
    edit = Safe("")
    if forms is not None:
        edit = metadata_forms(forms, url("models", name), record.description, record.tags)
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
