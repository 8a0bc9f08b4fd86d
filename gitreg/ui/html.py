"""HTML building that escapes by default.

Every value put into a template is escaped unless it is :class:`Safe` (HTML
this module or a page built itself), so text from the registry (names,
descriptions, tags, commit subjects: all pushed by someone) can never
inject markup.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable
from string import Template
from urllib.parse import quote, urlencode


class Safe(str):
    """Text that is already HTML: inserted into templates as it is."""

    __slots__ = ()


def esc(value: object) -> Safe:
    """``value`` as HTML text (a :class:`Safe` value is returned unchanged)."""
    if isinstance(value, Safe):
        return value
    return Safe(html.escape("" if value is None else str(value), quote=True))


def render(template: str, **values: object) -> Safe:
    """``string.Template`` substitution with every value escaped unless Safe."""
    return Safe(Template(template).substitute({k: esc(v) for k, v in values.items()}))


def join(parts: Iterable[object], sep: str = "") -> Safe:
    return Safe(sep.join(esc(p) for p in parts))


def url(*segments: object, **query: object) -> str:
    """A path from segments, each percent-encoded, plus an optional query."""
    path = "/" + "/".join(quote(str(s), safe="") for s in segments)
    q = {k: v for k, v in query.items() if v is not None and v != ""}
    return path + ("?" + urlencode(q) if q else "")


def link(href: str, text: object, cls: str = "") -> Safe:
    return render('<a href="$href" class="$cls">$text</a>', href=href, text=text, cls=cls)


def when(ms: int | None) -> Safe:
    """A UTC time for people, with the exact ISO time on hover."""
    if not ms:
        return Safe("")
    t = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return render('<time datetime="$iso">$text</time>', iso=t.isoformat(), text=t.strftime("%Y-%m-%d %H:%M UTC"))


def size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def number(value: float) -> str:
    return f"{value:.6g}"


def badge(stage: str) -> Safe:
    """A stage or alias as a coloured label."""
    kind = stage.lower() if stage.lower() in ("production", "staging", "archived") else "alias"
    return render('<span class="badge badge-$kind">$stage</span>', kind=kind, stage=stage)


def table(headers: Iterable[object], rows: Iterable[Iterable[object]], cls: str = "") -> Safe:
    head = join(render("<th>$h</th>", h=h) for h in headers)
    body = join(Safe("<tr>" + join(render("<td>$c</td>", c=c) for c in row) + "</tr>") for row in rows)
    return render('<table class="$cls"><thead><tr>$head</tr></thead><tbody>$body</tbody></table>', **locals())


def key_values(pairs: dict[str, object], empty: str = "None") -> Safe:
    """A two-column table of a mapping (params, metrics, tags)."""
    if not pairs:
        return render('<p class="muted">$empty</p>', empty=empty)
    rows = [(Safe(render("<code>$k</code>", k=k)), v) for k, v in sorted(pairs.items())]
    return table(("Key", "Value"), rows, "kv")


def copyable(label: str, text: str, ident: str) -> Safe:
    """A labelled snippet with a copy button (the button needs JavaScript; the
    text is selectable without it)."""
    return render(
        '<div class="snippet"><div class="snippet-head"><span>$label</span>'
        '<button type="button" class="copy" data-copy="$ident" hidden>Copy</button></div>'
        '<pre id="$ident"><code>$text</code></pre></div>',
        label=label,
        text=text,
        ident=ident,
    )


def page(title: str, body: Safe, *, active: str = "", flash: str = "", error: str = "", banner: str = "") -> Safe:
    """A whole page: header with navigation, messages, then ``body``."""
    nav = join(
        render('<a href="$href" class="$cls">$text</a>', href=href, text=text, cls="active" if key == active else "")
        for key, href, text in (
            ("models", "/", "Models"),
            ("runs", "/runs", "Logged models"),
            ("proposals", "/proposals", "Proposals"),
        )
    )
    notes = Safe("")
    if flash:
        notes = render('<div class="flash" role="status">$flash</div>', flash=flash)
    if error:
        notes = render('<div class="error" role="alert">$error</div>', error=error)
    return render(
        """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title · gitreg</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/copy.js" defer></script>
</head><body>
<header class="top"><a class="brand" href="/">gitreg</a><nav>$nav</nav></header>
<div class="banner">$banner</div>
<main>$notes$body</main>
<footer>gitreg model registry · versions are git tags, stages are branches</footer>
</body></html>
""",
        title=title,
        nav=nav,
        notes=notes,
        body=body,
        banner=banner,
    )
