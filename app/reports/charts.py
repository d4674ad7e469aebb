"""Charts drawn on the server as SVG: no script, no CDN. Each chart is an image with a title
(role="img"); the page puts the same numbers in a table beside it for screen readers, and
every bar and point carries its value (data-value, and a <title> tooltip)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 36
PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#f59e0b", "#7c3aed", "#0891b2", "#64748b")
MAX_X_LABELS = 12


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above value (1 for 0)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:g}" if value != int(value) else f"{int(value)}"


def _frame(title: str, labels: Sequence[str], top: float, percent: bool, legend) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-label="{escape(title)}" '
        'preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            'stroke="#cbd5e1" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#475569">{escape(_fmt(top * fraction, percent))}</text>'
        )
    n = max(len(labels), 1)
    every = max(1, math.ceil(n / MAX_X_LABELS))
    band = plot_w / n
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + band * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="11" fill="#475569">{escape(label)}</text>'
        )
    x = LEFT
    for name, colour in legend:
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 14}" y="15" font-size="11" fill="#1e293b">{escape(name)}</text>'
        )
        x += 22 + 7 * len(name)
    return parts


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    percent: bool = False,
) -> Markup:
    """Stacked bars: one bar per label, one segment per series (name, values)."""
    totals = [sum(values[i] or 0 for _, values in series) for i in range(len(labels))]
    top = 1 if percent else _nice_max(max(totals, default=0))
    legend = [(name, PALETTE[k % len(PALETTE)]) for k, (name, _) in enumerate(series)]
    parts = _frame(title, labels, top, percent, legend if len(series) > 1 else [])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    band = plot_w / max(len(labels), 1)
    bar_w = max(band * 0.75, 1)
    for i, label in enumerate(labels):
        base = 0.0
        for k, (name, values) in enumerate(series):
            value = values[i] or 0
            if not value:
                continue
            h = plot_h * value / top
            y = TOP + plot_h - plot_h * base / top - h
            x = LEFT + band * i + (band - bar_w) / 2
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}" '
                f'data-label="{escape(label)}" data-series="{escape(name)}" '
                f'data-value="{escape(_fmt(value, percent))}">'
                f"<title>{escape(label)}, {escape(name)}: {escape(_fmt(value, percent))}</title>"
                "</rect>"
            )
            base += value
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    percent: bool = False,
    top: float | None = None,
) -> Markup:
    """A line through the known values (gaps where a period has none), a dot on each."""
    known = [v for v in values if v is not None]
    top = top or (1 if percent else _nice_max(max(known, default=0)))
    parts = _frame(title, labels, top, percent, [])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    band = plot_w / max(len(labels), 1)
    segment: list[str] = []
    dots: list[str] = []

    def flush():
        if len(segment) > 1:
            parts.append(
                f'<polyline points="{" ".join(segment)}" fill="none" '
                f'stroke="{PALETTE[0]}" stroke-width="2"/>'
            )
        segment.clear()

    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        if value is None:
            flush()
            continue
        x = LEFT + band * (i + 0.5)
        y = TOP + plot_h * (1 - min(value, top) / top)
        segment.append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PALETTE[0]}" '
            f'data-label="{escape(label)}" data-value="{escape(_fmt(value, percent))}">'
            f"<title>{escape(label)}: {escape(_fmt(value, percent))}</title></circle>"
        )
    flush()
    parts.extend(dots)
    parts.append("</svg>")
    return Markup("".join(parts))
