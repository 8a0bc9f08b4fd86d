"""The review queue: open promotion proposals, with metric deltas and the policy's verdict."""

from __future__ import annotations

from gitreg.names import display_stage
from gitreg.proposals import OpenProposal
from gitreg.ui.html import Safe, join, number, render, table, url, when


def _verdict(p: OpenProposal) -> Safe:
    if p.problem:
        return render('<span class="status status-removed">$t</span>', t=p.problem)
    if p.passes:
        return Safe('<span class="status status-added">policy passes</span>')
    items = join(render("<li><code>$r</code> $m</li>", r=f.rule, m=f.message) for f in p.findings)
    return render('<span class="status status-changed">policy fails</span><ul class="findings">$i</ul>', i=items)


def _deltas(p: OpenProposal) -> Safe:
    chips = (
        render(
            '<span class="chip"><b>$k</b> $o → $n ($d)</span>',
            k=m.key,
            o=number(m.old),
            n=number(m.new),
            d=f"{m.delta:+.4g}",
        )
        for m in p.metrics
        if m.old is not None and m.new is not None and m.delta is not None
    )
    return join(chips, " ") or Safe('<span class="muted">-</span>')


def proposals_page(proposals: list[OpenProposal]) -> Safe:
    head = Safe('<div class="page-head"><h1>Proposals</h1></div>')
    if not proposals:
        empty = Safe(
            '<p class="empty">No open proposals. <code>gitreg promote NAME VERSION STAGE --propose</code> '
            "puts one on a <code>promote/</code> branch for review.</p>"
        )
        return join([head, empty])
    rows = []
    for p in proposals:
        current: object = Safe('<span class="muted">none</span>')
        if p.holder is not None:
            current = render('<a href="$h">v$v</a>', h=url("models", p.name, "versions", p.holder), v=p.holder)
        rows.append(
            (
                render("<code>$b</code>", b=p.branch),
                display_stage(p.stage),
                render(
                    '<a href="$h">$n v$v</a>', h=url("models", p.name, "versions", p.version), n=p.name, v=p.version
                ),
                current,
                _deltas(p),
                _verdict(p),
                render("$a, $t", a=p.author, t=when(p.time * 1000)),
            )
        )
    return join([head, table(("Branch", "Stage", "Proposed", "Current", "Metrics", "Policy", "Proposed by"), rows)])
