"""The pages: registry values in, escaped HTML out.

Nothing here reads git or knows HTTP; :mod:`gitreg.ui.app` fetches the data
and passes a :class:`Forms` only when the server was started with
``--allow-writes``, so a read-only server renders no forms at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitreg.entities import ModelVersion
from gitreg.history import Event
from gitreg.manifest import ModelRecord
from gitreg.names import display_stage, is_fixed_stage
from gitreg.overview import ModelSummary
from gitreg.registry import VersionRef
from gitreg.runs import Run
from gitreg.signature import Schema, Signature, TensorSpec
from gitreg.ui import chart
from gitreg.ui.csrf import FIELD
from gitreg.ui.html import Safe, badge, copyable, join, key_values, link, number, render, size, table, url, when
from gitreg.ui.snippets import Snippets

KEY_METRICS = 3


@dataclass(frozen=True)
class Forms:
    """Builds POST forms carrying this browser's CSRF token."""

    token: str

    def form(self, action: str, inner: Safe, button: str, *, cls: str = "", button_cls: str = "") -> Safe:
        return render(
            '<form method="post" action="$action" class="$cls">'
            '<input type="hidden" name="$field" value="$token">$inner$button</form>',
            action=action,
            field=FIELD,
            token=self.token,
            inner=inner,
            button=render('<button type="submit" class="$bcls">$label</button>', bcls=button_cls, label=button)
            if button
            else Safe(""),
            cls=cls,
        )


def _hidden(**fields: object) -> Safe:
    return join(render('<input type="hidden" name="$k" value="$v">', k=k, v=v) for k, v in fields.items())


def _stage_badges(stages: Sequence[str]) -> Safe:
    return join((badge(display_stage(s)) for s in stages), " ")


def _short(commit: str | None) -> Safe:
    if not commit:
        return Safe("")
    return render('<code title="$full">$short</code>', full=commit, short=commit[:7])


def _person(who: str) -> str:
    """``Name <email>`` shown as the name (the email is in the title)."""
    return who.split(" <", 1)[0] if " <" in who else who


def _first_line(text: str, limit: int = 120) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _tag_chips(tags: dict[str, str]) -> Safe:
    return join(
        (
            render('<span class="chip"><b>$k</b>$sep$v</span>', k=k, sep="=" if v else "", v=v)
            for k, v in sorted(tags.items())
        ),
        " ",
    )


def _description_block(description: str) -> Safe:
    if not description.strip():
        return Safe('<p class="muted">No description.</p>')
    return render('<div class="description">$d</div>', d=description)


# -- models -------------------------------------------------------------------------------------


def models_page(
    summaries: list[ModelSummary], *, query: str, total: int, page_no: int, pages: int, per_page: int
) -> Safe:
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
                render('<span class="desc">$d</span>', d=_first_line(s.description)),
                _tag_chips(s.tags),
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
    return render(
        '<div class="page-head"><h1>Registered models</h1></div>$search$count$listing$pager',
        search=search,
        count=count,
        listing=listing,
        pager=pager,
    )


# -- one model ----------------------------------------------------------------------------------


def _metric_keys(versions: list[ModelVersion]) -> list[str]:
    keys: list[str] = []
    for v in versions:
        for k in v.metrics:
            if k not in keys:
                keys.append(k)
    return sorted(keys)


def _stages_of(v: ModelVersion) -> list[str]:
    return ([v.current_stage.lower()] if v.current_stage != "None" else []) + list(v.aliases)


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
                person=_person(e.author),
                commit=_short(e.commit),
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
                _stage_badges(_stages_of(v)),
                *(number(v.metrics[k]) if k in v.metrics else "" for k in shown),
                render('<span title="$who">$p</span>', who=v.user_id, p=_person(v.user_id)),
                when(v.creation_timestamp),
                _short(v.commit),
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
        edit = _metadata_forms(forms, url("models", name), record.description, record.tags)
    return render(
        """<nav class="crumbs"><a href="/">Models</a> / <span>$name</span></nav>
<div class="page-head"><h1>$name</h1><div class="chips">$tags</div></div>
$description
<section class="card"><div class="card-head"><h2>Versions</h2>$compare</div>$versions</section>
$chart
<section class="card"><h2>History</h2>$timeline</section>
$edit""",
        name=name,
        tags=_tag_chips(record.tags),
        description=_description_block(record.description),
        compare=compare,
        versions=versions_table,
        chart=chart_block,
        timeline=_timeline(events, name),
        edit=edit,
    )


def _metadata_forms(forms: Forms, action: str, description: str, tags: dict[str, str]) -> Safe:
    desc = forms.form(
        action,
        render(
            '$h<label for="description">Description</label>'
            '<textarea id="description" name="description" rows="3">$d</textarea>',
            h=_hidden(action="description"),
            d=description,
        ),
        "Save description",
        cls="stack",
    )
    set_tag = forms.form(
        action,
        render(
            '$h<label>Key <input name="key" required></label><label>Value <input name="value"></label>',
            h=_hidden(action="set_tag"),
        ),
        "Set tag",
        cls="inline",
    )
    drops = join(
        forms.form(
            action,
            render('$h<span class="chip"><b>$k</b>=$v</span>', h=_hidden(action="delete_tag", key=k), k=k, v=v),
            "Delete",
            cls="inline tag-row",
            button_cls="danger small",
        )
        for k, v in sorted(tags.items())
    )
    return render(
        '<section class="card actions"><h2>Edit</h2>$desc<h3>Tags</h3>$drops$set</section>',
        desc=desc,
        drops=drops,
        set=set_tag,
    )


# -- one version --------------------------------------------------------------------------------


def _schema_table(schema: Schema | None) -> Safe:
    if schema is None:
        return Safe('<p class="muted">Not recorded.</p>')
    if isinstance(schema, TensorSpec):
        return table(("Type", "Shape"), [(f"tensor ({schema.dtype})", str(list(schema.shape)))], "schema")
    rows = [(c.name or "—", c.type, "yes" if c.required else "no") for c in schema]
    return table(("Column", "Type", "Required"), rows, "schema")


def _signature_block(signature: Signature | None) -> Safe:
    if signature is None:
        return Safe('<p class="muted">No signature recorded.</p>')
    return render(
        '<div class="two"><div><h3>Inputs</h3>$i</div><div><h3>Outputs</h3>$o</div></div>',
        i=_schema_table(signature.inputs),
        o=_schema_table(signature.outputs),
    )


def _example_block(example: bytes | None) -> Safe:
    if example is None:
        return Safe('<p class="muted">No input example.</p>')
    try:
        data = json.loads(example)
    except (ValueError, UnicodeDecodeError):
        return Safe('<p class="muted">The input example is not JSON.</p>')
    if isinstance(data, dict) and isinstance(data.get("columns"), list) and isinstance(data.get("data"), list):
        rows = [r if isinstance(r, list) else [r] for r in data["data"][:20]]
        more = len(data["data"]) - len(rows)
        note = render('<p class="muted">… and $n more rows</p>', n=more) if more > 0 else Safe("")
        return render("$t$note", t=table(data["columns"], rows, "example"), note=note)
    text = json.dumps(data, indent=2)
    return render("<pre><code>$t</code></pre>", t=text if len(text) < 4000 else text[:4000] + "\n…")


def version_page(
    mv: ModelVersion,
    ref: VersionRef,
    example: bytes | None,
    snippets: Snippets,
    *,
    stages: list[str],
    forms: Forms | None,
) -> Safe:
    name, m = mv.name, ref.manifest
    artifacts = table(
        ("Path", "Size", "SHA-256"),
        [
            (render("<code>$p</code>", p=a.path), size(a.size), render('<code class="hash">$s</code>', s=a.sha256))
            for a in m.artifacts
        ],
        "artifacts",
    )
    dirty = {True: "yes (uncommitted changes when registered)", False: "no", None: "unknown"}[mv.git_dirty]
    provenance = table(
        ("", ""),
        [
            ("Training commit", render("<code>$c</code>", c=mv.git_commit) if mv.git_commit else "not recorded"),
            ("Training remote", mv.git_remote or "not recorded"),
            ("Work tree dirty", dirty),
            ("Source", render("<code>$s</code>", s=mv.source) if mv.source else "—"),
            ("Run id", render("<code>$r</code>", r=mv.run_id) if mv.run_id else "—"),
            ("Registered by", mv.user_id),
            ("Registered at", when(mv.creation_timestamp)),
            ("Registry tag", render("<code>$t</code>", t=mv.tag)),
            ("Registry commit", render("<code>$c</code>", c=mv.commit)),
            ("Flavor", mv.flavor),
        ],
        "kv provenance",
    )
    snips = [
        copyable("Model URI", snippets.uri, "snip-uri"),
        copyable("Load in Python", snippets.python, "snip-python"),
        copyable("Serve over HTTP", snippets.serve, "snip-serve"),
    ]
    if snippets.curl:
        snips.append(copyable("Score the input example", snippets.curl, "snip-curl"))
    actions = Safe("")
    if forms is not None:
        actions = join(
            [
                _promote_forms(forms, mv, stages),
                _metadata_forms(forms, url("models", name, "versions", mv.version), mv.description, mv.tags),
            ]
        )
    return render(
        """<nav class="crumbs"><a href="/">Models</a> / <a href="$model_url">$name</a> / <span>Version $v</span></nav>
<div class="page-head"><h1>$name <span class="version">version $v</span></h1><div>$badges</div></div>
$description<div class="chips">$tags</div>
<section class="card"><h2>Use this version</h2><div class="snippets">$snippets</div></section>
<div class="grid">
<div class="main-col">
<section class="card"><h2>Metrics</h2>$metrics</section>
<section class="card"><h2>Parameters</h2>$params</section>
<section class="card"><h2>Signature</h2>$signature</section>
<section class="card"><h2>Input example</h2>$example</section>
<section class="card"><h2>Artifacts</h2>$artifacts</section>
</div>
<div class="side-col">
<section class="card"><h2>Provenance</h2>$provenance</section>
$actions
</div></div>""",
        model_url=url("models", name),
        name=name,
        v=mv.version,
        badges=_stage_badges(_stages_of(mv)) or Safe('<span class="muted">In no stage</span>'),
        description=_description_block(mv.description),
        tags=_tag_chips(mv.tags),
        metrics=key_values({k: number(v) for k, v in mv.metrics.items()}, "No metrics recorded."),
        params=key_values(dict(mv.params), "No parameters recorded."),
        signature=_signature_block(mv.signature),
        example=_example_block(example),
        artifacts=artifacts,
        snippets=join(snips),
        provenance=provenance,
        actions=actions,
    )


def _promote_forms(forms: Forms, mv: ModelVersion, stages: list[str]) -> Safe:
    options = join(render('<option value="$s">$s</option>', s=display_stage(s)) for s in stages)
    datalist = render('<datalist id="stage-list">$o</datalist>', o=options)
    action = url("models", mv.name, "versions", mv.version)
    fields = render(
        '<label>Stage or alias <input name="stage" list="stage-list" required placeholder="Production"></label>$dl'
        '<label class="check"><input type="checkbox" name="archive_existing" value="1"> '
        "Archive the version the stage held</label>",
        dl=datalist,
    )
    buttons = Safe(
        '<div class="buttons"><button type="submit" name="action" value="promote">Promote now</button>'
        '<button type="submit" name="action" value="propose" class="secondary">Propose for review</button></div>'
        '<p class="muted small">Propose puts the change on a branch <code>promote/STAGE/MODEL-vN</code>: '
        "push it and open a pull request into <code>stages/STAGE</code>.</p>"
    )
    return render(
        '<section class="card actions"><h2>Promote</h2>$f</section>',
        f=forms.form(action, render("$f$b", f=fields, b=buttons), "", cls="stack"),
    )


# -- logged models ------------------------------------------------------------------------------


def runs_page(runs: list[Run], model_names: list[str], forms: Forms | None) -> Safe:
    if not runs:
        return Safe(
            '<div class="page-head"><h1>Logged models</h1></div>'
            '<p class="empty">No logged models yet. <code>gitreg.sklearn.log_model(model, "model")</code> '
            "saves one here without registering it.</p>"
        )
    datalist = render(
        '<datalist id="model-names">$o</datalist>',
        o=join(render('<option value="$n">', n=n) for n in model_names),
    )
    cards = []
    for run in runs:
        rows: list[tuple[object, ...]] = []
        for path, info in sorted(run.models.items()):
            metrics = info.get("metrics") if isinstance(info.get("metrics"), dict) else run.metrics
            registered = info.get("registered") if isinstance(info.get("registered"), dict) else None
            status: object = Safe('<span class="muted">not registered</span>')
            if registered:
                status = render(
                    'registered as <a href="$h">$n v$v</a>',
                    h=url("models", registered.get("name", ""), "versions", registered.get("version", "")),
                    n=registered.get("name", ""),
                    v=registered.get("version", ""),
                )
            action: object = ""
            if forms is not None:
                action = forms.form(
                    "/runs/register",
                    render(
                        '$h<input name="name" list="model-names" required placeholder="Model name" '
                        'aria-label="Model name">',
                        h=_hidden(run_id=run.info.run_id, path=path),
                    ),
                    "Register",
                    cls="inline",
                )
            rows.append(
                (
                    render("<code>runs:/$r/$p</code>", r=run.info.run_id, p=path),
                    str(info.get("flavor", "")),
                    join(
                        (
                            render('<span class="chip"><b>$k</b> $v</span>', k=k, v=number(float(v)))
                            for k, v in sorted((metrics or {}).items())
                        ),
                        " ",
                    ),
                    status,
                    action,
                )
            )
        headers = ["Model", "Flavor", "Metrics", "Registry", *(["Register as"] if forms is not None else [])]
        rows = [r if forms is not None else r[:4] for r in rows]
        cards.append(
            render(
                '<section class="card run"><div class="card-head"><h2>Run <code>$id</code></h2>'
                '<span class="muted">started $t</span></div>$params$models</section>',
                id=run.info.run_id,
                t=when(run.info.start_time),
                params=render('<div class="chips">$c</div>', c=_tag_chips(run.params)) if run.params else Safe(""),
                models=table(headers, rows, "runs"),
            )
        )
    return render(
        '<div class="page-head"><h1>Logged models</h1></div>'
        '<p class="muted">Models saved by <code>log_model</code> without a registered name, newest run first.</p>'
        "$dl$cards",
        dl=datalist,
        cards=join(cards),
    )


def error_page(status: int, title: str, message: str) -> Safe:
    return render(
        '<div class="error-page"><p class="status">$s</p><h1>$t</h1><p>$m</p>'
        '<p><a href="/">Back to the models</a></p></div>',
        s=status,
        t=title,
        m=message,
    )


# -- compare ------------------------------------------------------------------------------------


def _status_cell(status: str) -> Safe:
    if status == "same":
        return Safe('<span class="muted">same</span>')
    return render('<span class="status status-$s">$s</span>', s=status)


def _diff_rows(changes: Sequence[Any], cells: Any, only_changes: bool) -> list[Safe]:
    rows = []
    for c in changes:
        if only_changes and c.status == "same":
            continue
        tds = join(render("<td>$v</td>", v=v) for v in (*cells(c), _status_cell(c.status)))
        rows.append(render('<tr class="$cls">$tds</tr>', cls="" if c.status == "same" else c.status, tds=tds))
    return rows


def _diff_table(title: str, headers: Sequence[str], rows: list[Safe], empty: str) -> Safe:
    head = join(render("<th>$h</th>", h=h) for h in (*headers, "Change"))
    body = (
        render('<table class="compare-table"><thead><tr>$h</tr></thead><tbody>$b</tbody></table>', h=head, b=join(rows))
        if rows
        else render('<p class="muted">$e</p>', e=empty)
    )
    return render('<section class="card"><h2>$t</h2>$b</section>', t=title, b=body)


def _schema_of(raw: dict[str, Any] | None) -> Safe:
    if raw is None:
        return Safe('<p class="muted">No signature.</p>')
    return _signature_block(Signature.from_dict(raw))


def compare_page(d: Any, a: ModelVersion, b: ModelVersion, versions: list[int], *, only_changes: bool) -> Safe:
    """``d`` is a :class:`gitreg.diff.VersionDiff` of ``a`` (old) -> ``b`` (new)."""
    name = a.name
    va, vb = f"Version {a.version}", f"Version {b.version}"

    def opts(selected: int) -> Safe:
        return join(
            render('<option value="$n"$sel>Version $n</option>', n=n, sel=Safe(" selected" if n == selected else ""))
            for n in versions
        )

    picker = render(
        '<form method="get" class="inline compare-form"><label>Compare <select name="a">$a</select></label>'
        '<label>with <select name="b">$b</select></label><label class="check"><input type="checkbox" name="changes" '
        'value="1"$chk> only differences</label><button type="submit" class="secondary">Compare</button></form>',
        a=opts(a.version),
        b=opts(b.version),
        chk=Safe(" checked" if only_changes else ""),
    )
    overview_rows = [
        ("Stages", _stage_badges(_stages_of(a)), _stage_badges(_stages_of(b))),
        ("Registered", when(a.creation_timestamp), when(b.creation_timestamp)),
        ("Author", _person(a.user_id), _person(b.user_id)),
        ("Flavor", a.flavor, b.flavor),
        ("Run id", a.run_id or "—", b.run_id or "—"),
        ("Training commit", _short(a.git_commit) or "—", _short(b.git_commit) or "—"),
        ("Registry commit", _short(a.commit), _short(b.commit)),
    ]
    head = render(
        '<tr><th></th><th><a href="$ha">$va</a></th><th><a href="$hb">$vb</a></th></tr>',
        ha=url("models", name, "versions", a.version),
        hb=url("models", name, "versions", b.version),
        va=va,
        vb=vb,
    )
    overview = render(
        '<section class="card"><h2>Overview</h2><table class="compare-table side"><thead>$h</thead><tbody>$r</tbody>'
        "</table></section>",
        h=head,
        r=join(render("<tr><td>$k</td><td>$x</td><td>$y</td></tr>", k=k, x=x, y=y) for k, x, y in overview_rows),
    )
    verdict = (
        Safe('<div class="flash">The two versions are identical in everything that can be compared.</div>')
        if d.identical
        else Safe("")
    )
    metrics = _diff_table(
        "Metrics",
        ("Metric", va, vb, "Difference"),
        _diff_rows(
            d.metrics,
            lambda c: (
                render("<code>$k</code>", k=c.key),
                "—" if c.old is None else number(c.old),
                "—" if c.new is None else number(c.new),
                "" if c.delta is None else f"{c.delta:+.6g}",
            ),
            only_changes,
        ),
        "No metric differs." if only_changes else "No metrics recorded.",
    )

    def values(c: Any) -> tuple[object, ...]:
        return (render("<code>$k</code>", k=c.key), "—" if c.old is None else c.old, "—" if c.new is None else c.new)

    params = _diff_table(
        "Parameters", ("Parameter", va, vb), _diff_rows(d.params, values, only_changes), "None differ."
    )
    tags = _diff_table("Version tags", ("Tag", va, vb), _diff_rows(d.tags, values, only_changes), "None differ.")
    reqs = _diff_table(
        "Requirements", ("Package", va, vb), _diff_rows(d.requirements, values, only_changes), "None differ."
    )
    artifacts = _diff_table(
        "Artifacts",
        ("Path", va, vb),
        _diff_rows(
            d.artifacts,
            lambda c: (
                render("<code>$p</code>", p=c.path),
                "—"
                if c.old_sha256 is None
                else render('$s <code class="hash">$h</code>', s=size(c.old_size or 0), h=c.old_sha256[:12]),
                "—"
                if c.new_sha256 is None
                else render('$s <code class="hash">$h</code>', s=size(c.new_size or 0), h=c.new_sha256[:12]),
            ),
            only_changes,
        ),
        "No artifact differs.",
    )
    signature = render(
        '<section class="card"><h2>Signature $state</h2>$body</section>',
        state=Safe(render('<span class="status status-changed">changed</span>') if d.signature_changed else ""),
        body=(
            render(
                '<div class="two"><div><h3>$va</h3>$x</div><div><h3>$vb</h3>$y</div></div>',
                va=va,
                vb=vb,
                x=_schema_of(d.signature[0]),
                y=_schema_of(d.signature[1]),
            )
            if d.signature_changed
            else Safe('<p class="muted">Both versions have the same signature.</p>')
        ),
    )
    return render(
        """<nav class="crumbs"><a href="/">Models</a> / <a href="$model_url">$name</a> / <span>Compare</span></nav>
<div class="page-head"><h1>$name <span class="version">version $a → $b</span></h1>$picker</div>
$verdict$overview$metrics$params$signature$tags$reqs$artifacts""",
        model_url=url("models", name),
        name=name,
        a=a.version,
        b=b.version,
        picker=picker,
        verdict=verdict,
        overview=overview,
        metrics=metrics,
        params=params,
        signature=signature,
        tags=tags,
        reqs=reqs,
        artifacts=artifacts,
    )
