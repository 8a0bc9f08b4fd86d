"""A tiny, safe subset of Markdown for descriptions, without a dependency.

The text is HTML-escaped FIRST; only then are a few patterns turned into
tags this module writes itself: paragraphs (blank lines), ``-``/``*`` and
``1.`` lists, ``**strong**``, ``*emphasis*``/``_emphasis_``, ```code```, and
``[text](url)`` links whose URL is ``http://`` or ``https://`` (anything else
stays text). No raw HTML, no images, no attributes from the text other than
a checked, escaped ``href``. So whatever a description holds, the output
can only contain ``p ul ol li strong em code a`` elements.
"""

from __future__ import annotations

import html
import re

from gitreg.ui.html import Safe

_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s()<>\"']+)\)")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")


def _inline(escaped: str) -> str:
    """Inline markup on already-escaped text; code spans are kept out of the rest."""
    codes: list[str] = []

    def keep(m: re.Match[str]) -> str:
        codes.append(f"<code>{m.group(1)}</code>")
        return f"\x00{len(codes) - 1}\x00"

    text = _CODE.sub(keep, escaped)
    # The URL was escaped with the rest (& became &amp;, quotes can't occur): safe in a quoted attribute.
    text = _LINK.sub(lambda m: f'<a href="{m.group(2)}" rel="nofollow noreferrer">{m.group(1)}</a>', text)
    text = _STRONG.sub(r"<strong>\1</strong>", text)
    text = _EM.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], text)


def render_markdown(text: str) -> Safe:
    """``text`` as the subset above; everything else shows as the text it is."""
    escaped = html.escape(text.replace("\r\n", "\n").replace("\x00", ""), quote=True)
    blocks: list[str] = []
    for chunk in re.split(r"\n\s*\n", escaped.strip()):
        lines = [ln for ln in chunk.split("\n") if ln.strip()]
        if not lines:
            continue
        for kind, pattern in (("ul", _BULLET), ("ol", _NUMBERED)):
            items = [pattern.match(ln) for ln in lines]
            if all(items):
                lis = "".join(f"<li>{_inline(m.group(1))}</li>" for m in items if m)
                blocks.append(f"<{kind}>{lis}</{kind}>")
                break
        else:
            blocks.append("<p>" + "<br>".join(_inline(ln) for ln in lines) + "</p>")
    return Safe("".join(blocks))
