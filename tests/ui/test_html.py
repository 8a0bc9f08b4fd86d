"""HTML building escapes everything that is not already HTML."""

from __future__ import annotations

from gitreg.ui.chart import line_chart
from gitreg.ui.html import Safe, esc, join, render, size, url


def test_render_escapes_values_unless_they_are_safe() -> None:
    out = render('<p title="$t">$body</p>$raw', t='"><script>', body="<b>&", raw=Safe("<i>ok</i>"))
    assert out == '<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;&amp;</p><i>ok</i>'


def test_join_and_esc_keep_safe_values_and_escape_the_rest() -> None:
    assert join([Safe("<br>"), "<br>"], " ") == "<br> &lt;br&gt;"
    assert esc(None) == "" and esc(Safe("<x>")) == "<x>"


def test_url_encodes_each_segment_and_drops_empty_query_values() -> None:
    assert url("models", "a b/c", "versions", 3) == "/models/a%20b%2Fc/versions/3"
    assert url(q="x y", page=None) == "/?q=x+y"
    assert url() == "/"


def test_sizes_read_like_people_write_them() -> None:
    assert (size(12), size(2048), size(5 * 1024 * 1024)) == ("12 B", "2.0 KiB", "5.0 MiB")


def test_chart_draws_one_point_per_version_and_escapes_the_metric_name() -> None:
    svg = line_chart("<acc>", [(1, 0.5), (2, 0.75), (4, 0.7)])
    assert svg.count("<circle") == 3
    assert "&lt;acc&gt;" in svg and "<acc>" not in svg
    assert "version 4: 0.7" in svg


def test_chart_of_a_metric_no_version_records_says_so() -> None:
    assert "No version records metric f1" in line_chart("f1", [])
    assert line_chart("f1", [(1, 2.0)]).count("<circle") == 1  # a flat range still draws
