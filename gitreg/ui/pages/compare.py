"""Two versions side by side, from :func:`gitreg.diff.diff_versions`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gitreg.diff import VersionDiff
from gitreg.entities import ModelVersion
from gitreg.signature import Signature
from gitreg.ui.html import Safe, join, number, render, size, url, when
from gitreg.ui.pages.common import person, short, signature_block, stage_badges, stages_of


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
    return signature_block(Signature.from_dict(raw))


def compare_page(d: VersionDiff, a: ModelVersion, b: ModelVersion, versions: list[int], *, only_changes: bool) -> Safe:
    """``d`` compares ``a`` (old) with ``b`` (new)."""
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
        ("Stages", stage_badges(stages_of(a)), stage_badges(stages_of(b))),
        ("Registered", when(a.creation_timestamp), when(b.creation_timestamp)),
        ("Author", person(a.user_id), person(b.user_id)),
        ("Flavor", a.flavor, b.flavor),
        ("Run id", a.run_id or "—", b.run_id or "—"),
        ("Training commit", short(a.git_commit) or "—", short(b.git_commit) or "—"),
        ("Registry commit", short(a.commit), short(b.commit)),
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


_LOWER_IS_BETTER = ("loss", "error", "rmse", "mae", "mse")


def lower_is_better(metric: str) -> bool:
    """A metric's direction from its name: losses and errors go down, everything else up."""
    key = metric.lower()
    return any(word in key for word in _LOWER_IS_BETTER)


def _metric_cells(key: str, versions: list[ModelVersion]) -> list[Safe]:
    values = [v.metrics.get(key) for v in versions]
    known = [x for x in values if x is not None]
    best = worst = None
    if len(set(known)) > 1:
        best, worst = (min(known), max(known)) if lower_is_better(key) else (max(known), min(known))
    cells = []
    for x in values:
        if x is None:
            cells.append(Safe('<td class="muted">—</td>'))
            continue
        cls, note = ("better", " (best)") if x == best else ("worse", " (worst)") if x == worst else ("", "")
        cells.append(render('<td class="$c">$v<span class="sr">$n</span></td>', c=cls, v=number(x), n=note))
    return cells


def compare_many_page(name: str, versions: list[ModelVersion]) -> Safe:
    """Any number of versions side by side: metrics coloured best (green) to worst
    (red) by each metric's direction (:func:`lower_is_better`), differing parameters marked."""
    head = join(
        render('<th><a href="$h">Version $n</a></th>', h=url("models", name, "versions", v.version), n=v.version)
        for v in versions
    )
    overview_rows: list[tuple[str, list[object]]] = [
        ("Stages", [stage_badges(stages_of(v)) for v in versions]),
        ("Registered", [when(v.creation_timestamp) for v in versions]),
        ("Author", [person(v.user_id) for v in versions]),
        ("Run id", [v.run_id or "—" for v in versions]),
    ]
    rows = [
        render("<tr><td>$k</td>$c</tr>", k=k, c=join(render("<td>$x</td>", x=x) for x in cells))
        for k, cells in overview_rows
    ]
    metric_keys = sorted({k for v in versions for k in v.metrics})
    metric_rows = [
        render(
            '<tr><td><code>$k</code> <span class="muted small">$d</span></td>$c</tr>',
            k=k,
            d="lower is better" if lower_is_better(k) else "higher is better",
            c=join(_metric_cells(k, versions)),
        )
        for k in metric_keys
    ]
    param_keys = sorted({k for v in versions for k in v.params})
    param_rows = []
    for k in param_keys:
        values = [v.params.get(k) for v in versions]
        param_rows.append(
            render(
                '<tr class="$cls"><td><code>$k</code></td>$c</tr>',
                cls="changed" if len(set(values)) > 1 else "",
                k=k,
                c=join(render("<td>$x</td>", x="—" if x is None else x) for x in values),
            )
        )

    def section(title: str, body: list[Safe], empty: str) -> Safe:
        if not body:
            return render('<section class="card"><h2>$t</h2><p class="muted">$e</p></section>', t=title, e=empty)
        return render(
            '<section class="card"><h2>$t</h2><div class="scroll"><table class="compare-table many">'
            "<thead><tr><th></th>$h</tr></thead><tbody>$b</tbody></table></div></section>",
            t=title,
            h=head,
            b=join(body),
        )

    return render(
        """<nav class="crumbs"><a href="/">Models</a> / <a href="$model_url">$name</a> / <span>Compare</span></nav>
<div class="page-head"><h1>$name <span class="version">$n versions</span></h1></div>
$overview$metrics$params""",
        model_url=url("models", name),
        name=name,
        n=len(versions),
        overview=section("Overview", rows, ""),
        metrics=section("Metrics", metric_rows, "No metrics recorded."),
        params=section("Parameters", param_rows, "No parameters recorded."),
    )
