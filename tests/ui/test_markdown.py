"""The description renderer: a small Markdown subset, escaped first."""

from __future__ import annotations

import pytest

from gitreg.ui.markdown import render_markdown


def test_paragraphs_emphasis_code_and_lists() -> None:
    out = render_markdown("A **b** *c* _d_ `e*f*`\nsame paragraph\n\n- one\n- two\n\n1. x\n2. y")
    assert out == (
        "<p>A <strong>b</strong> <em>c</em> <em>d</em> <code>e*f*</code><br>same paragraph</p>"
        "<ul><li>one</li><li>two</li></ul><ol><li>x</li><li>y</li></ol>"
    )


def test_only_http_and_https_links_become_links() -> None:
    out = render_markdown("[ok](https://example.com/a?b=1&c=2) [no](javascript:alert(1)) [no](data:text/html,x)")
    assert out.count("<a ") == 1
    assert 'href="https://example.com/a?b=1&amp;c=2"' in out
    assert "[no](javascript:alert(1))" in out


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '[x](https://a.example/"onmouseover="alert(1))',
        "[x](https://a.example/<script>)",
        "**<b>**",
    ],
)
def test_markup_in_a_description_is_text(hostile: str) -> None:
    out = render_markdown(hostile)
    assert "<script" not in out and "<img" not in out and "<b>" not in out
    assert 'onmouseover="' not in out
