"""The metric chart's axes, and who a write from the browser is committed as."""

from __future__ import annotations

import itertools
import re

import pytest

from gitreg.errors import InvalidInputError
from gitreg.store import Identity
from gitreg.ui.attribution import TrustedHeaders
from gitreg.ui.chart import MAX_X_LABELS, line_chart, nice_ticks


def test_tick_values_are_round_and_labelled_without_float_noise() -> None:
    assert nice_ticks(0.78, 0.9) == ([0.75, 0.8, 0.85, 0.9], 2)
    svg = line_chart("accuracy", [(1, 0.81), (2, 0.86), (3, 0.91), (4, 0.89)])
    labels = re.findall(r'text-anchor="end">([^<]+)<', svg)
    assert labels and all(re.fullmatch(r"0\.\d{2}", label) for label in labels)


def test_version_labels_never_crowd_the_axis() -> None:
    svg = line_chart("loss", [(v, 1 / v) for v in range(1, 121)])
    xs = [float(x) for x in re.findall(r'<text class="tick" x="([\d.]+)" y="[\d.]+" text-anchor="middle">v', svg)]
    assert len(xs) <= MAX_X_LABELS + 1
    assert min(b - a for a, b in itertools.pairwise(xs)) >= 40  # px in the 640-wide drawing


def test_the_trusted_header_names_the_author() -> None:
    trusted = TrustedHeaders("X-Forwarded-User", "X-Forwarded-Email")
    assert trusted.identity({"X-FORWARDED-USER": "ada", "X-FORWARDED-EMAIL": "ada@example.com"}) == Identity(
        "ada", "ada@example.com"
    )
    assert TrustedHeaders("X-Forwarded-User").identity({"X-FORWARDED-USER": "ada@example.com"}) == Identity(
        "ada", "ada@example.com"
    )
    assert TrustedHeaders().identity({"X-FORWARDED-USER": "mallory"}) is None  # not trusted: the server writes


@pytest.mark.parametrize("value", ["", "Eve <eve@example.com>", "Eve\nGitreg-Policy-Override: x"])
def test_a_missing_or_header_breaking_user_is_refused(value: str) -> None:
    with pytest.raises(InvalidInputError):
        TrustedHeaders("X-Forwarded-User").identity({"X-FORWARDED-USER": value})
