"""Logged models: what ``log_model`` saved without a registered name."""

from __future__ import annotations

from gitreg.runs import Run
from gitreg.ui.html import Safe, join, number, render, table, url, when
from gitreg.ui.links import run_anchor
from gitreg.ui.pages.common import Forms, hidden, tag_chips


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
                        h=hidden(run_id=run.info.run_id, path=path),
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
                '<section class="card run" id="$anchor"><div class="card-head"><h2>Run <code>$id</code></h2>'
                '<span class="muted">started $t</span></div>$params$models</section>',
                id=run.info.run_id,
                anchor=run_anchor(run.info.run_id),
                t=when(run.info.start_time),
                params=render('<div class="chips">$c</div>', c=tag_chips(run.params)) if run.params else Safe(""),
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
