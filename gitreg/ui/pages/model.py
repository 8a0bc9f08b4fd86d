"""One model: its versions, a metric across versions, its stage history."""

from __future__ import annotations

import re

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


def _timeline(events: list[Event], name: str) -> Safe:
    if not events:
        return Safe('<p class="muted">No history yet.</p>')
    items = []
    for e in events:
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
    return render('<ol class="timeline">$items</ol>', items=join(items))


def model_page(
    record: ModelRecord,
    versions: list[ModelVersion],
    events: list[Event],
    *,
    metric: str | None,
    forms: Forms | None,
) -> Safe:
    name = record.name
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
            '<section class="card"><div class="card-head"><h2>Metric across versions</h2>'
            '<form method="get" class="inline"><label>Metric <select name="metric">$options</select></label>'
            '<button type="submit" class="secondary">Show</button></form></div>$svg</section>',
            options=options,
            svg=chart.line_chart(chosen, points),
        )
    compare = Safe("")
    if len(versions) >= 2:
        nums = [v.version for v in versions]

        def opts(selected: int) -> Safe:
            return join(
                render(
                    '<option value="$n"$sel>Version $n</option>', n=n, sel=Safe(" selected" if n == selected else "")
                )
                for n in nums
            )

        compare = render(
            '<form method="get" action="$action" class="inline compare-form">'
            '<label>Compare <select name="a">$a</select></label><label>with <select name="b">$b</select></label>'
            '<button type="submit" class="secondary">Compare</button></form>',
            action=url("models", name, "compare"),
            a=opts(nums[-2]),
            b=opts(nums[-1]),
        )
    edit = Safe("")
    if forms is not None:
        edit = metadata_forms(forms, url("models", name), record.description, record.tags)
    return render(
        """<nav class="crumbs"><a href="/">Models</a> / <span>$name</span></nav>
<div class="page-head"><h1>$name</h1><div class="chips">$tags</div></div>
$description
<section class="card"><div class="card-head"><h2>Versions</h2>$compare</div>$versions</section>
$chart
<section class="card"><h2>History</h2>$timeline</section>
$edit""",
        name=name,
        tags=tag_chips(record.tags),
        description=description_block(record.description),
        compare=compare,
        versions=versions_table,
        chart=chart_block,
        timeline=_timeline(events, name),
        edit=edit,
    )
