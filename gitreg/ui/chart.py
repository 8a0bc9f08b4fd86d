"""A metric across versions as an inline SVG line chart, drawn on the server
so the page needs no JavaScript library and nothing from the internet."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gitreg.ui.html import Safe, join, number, render

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 36
# At most this many version labels under the axis, so they never touch
# ("v1000" is about 32 px wide at the tick font size; 560 px / 10 leaves room).
MAX_X_LABELS = 10


def nice_ticks(lo: float, hi: float, most: int = 5) -> tuple[list[float], int]:
    """Round tick values covering ``lo``..``hi`` (a step of 1, 2 or 5 times a
    power of ten) and the decimals that label them without float noise."""
    raw = (hi - lo) / max(most - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    k = 0
    while first + k * step <= hi + step * 1e-9:
        ticks.append(first + k * step)
        k += 1
    if ticks[-1] < hi - step * 1e-9:
        ticks.append(first + k * step)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return ticks, decimals


@dataclass(frozen=True)
class _Scale:
    """Where the ``count`` points of a chart whose values span ``lo``..``hi`` are drawn."""

    lo: float
    hi: float
    count: int

    @property
    def plot_w(self) -> int:
        return WIDTH - LEFT - RIGHT

    @property
    def plot_h(self) -> int:
        return HEIGHT - TOP - BOTTOM

    def x(self, i: int) -> float:
        step = self.plot_w / max(self.count - 1, 1)
        return LEFT + (i * step if self.count > 1 else self.plot_w / 2)

    def y(self, v: float) -> float:
        return TOP + self.plot_h - (v - self.lo) / (self.hi - self.lo) * self.plot_h


def line_chart(metric: str, points: list[tuple[int, float]]) -> Safe:
    """``points`` are (version, value) in version order; versions without the
    metric are simply absent."""
    if not points:
        return render('<p class="muted">No version records metric $m.</p>', m=metric)
    values = [v for _, v in points]
    lo, hi = min(values), max(values)
    if lo == hi:
        lo, hi = lo - (abs(lo) or 1) * 0.05, hi + (abs(hi) or 1) * 0.05
    ticks, decimals = nice_ticks(lo, hi)
    scale = _Scale(min(lo, ticks[0]), max(hi, ticks[-1]), len(points))
    path = " ".join(f"{scale.x(i):.1f},{scale.y(v):.1f}" for i, (_, v) in enumerate(points))
    return render(
        '<svg class="chart" viewBox="0 0 $w $h" role="img" aria-label="$metric by version">'
        '<title>$metric by version</title>$grid<polyline class="line" points="$path"/>$marks'
        '<text class="axis" x="$cx" y="$ay" text-anchor="middle">version</text></svg>',
        w=WIDTH,
        h=HEIGHT,
        metric=metric,
        grid=join(_grid_line(scale, value, decimals) for value in ticks),
        path=path,
        marks=join(_mark(scale, i, version, value) for i, (version, value) in enumerate(points)),
        cx=LEFT + scale.plot_w / 2,
        ay=HEIGHT - 2,
    )


def _grid_line(scale: _Scale, value: float, decimals: int) -> Safe:
    """A horizontal grid line at the tick ``value``, labelled on the left."""
    gy = scale.y(value)
    return render(
        '<line class="grid" x1="$x1" x2="$x2" y1="$y" y2="$y"/>'
        '<text class="tick" x="$tx" y="$ty" text-anchor="end">$label</text>',
        x1=LEFT,
        x2=WIDTH - RIGHT,
        y=f"{gy:.1f}",
        tx=LEFT - 6,
        ty=f"{gy + 4:.1f}",
        label=f"{value:.{decimals}f}",
    )


def _mark(scale: _Scale, i: int, version: int, value: float) -> Safe:
    """The ``i``-th point, with its version under the axis for every few points (at most
    :data:`MAX_X_LABELS`, the last one too unless it would crowd the one before)."""
    every = max(1, math.ceil(scale.count / MAX_X_LABELS))
    px, py = f"{scale.x(i):.1f}", f"{scale.y(value):.1f}"
    label = Safe("")
    if i % every == 0 or (i == scale.count - 1 and (i % every) * 2 >= every):
        label = render(
            '<text class="tick" x="$px" y="$ly" text-anchor="middle">v$version</text>',
            px=px,
            ly=HEIGHT - BOTTOM + 16,
            version=version,
        )
    return render(
        '<circle class="point" cx="$px" cy="$py" r="4"><title>version $version: $value</title></circle>$label',
        px=px,
        py=py,
        version=version,
        value=number(value),
        label=label,
    )
