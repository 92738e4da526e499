"""Bar charts drawn on the server as SVG: pictures that need no JavaScript and no library.

Each chart is an ``<svg role="img">`` with a title and a description for screen readers; the
pages put the same numbers in a table next to it. Every text is escaped here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# The palette of kattoo.css: brand blue, success green, muted line grey.
COLOURS = ("#0b5394", "#1e6b2f", "#c8c8c8", "#8a4b00")


@dataclass(frozen=True, slots=True)
class Segment:
    value: int
    label: str
    colour: str = COLOURS[0]


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    segments: Sequence[Segment]
    note: str = ""  # printed after the bar, e.g. "12 free of 50"

    @property
    def total(self) -> int:
        return sum(s.value for s in self.segments)


def _frame(width: int, height: int, title: str, description: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 — every piece of text below went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart chart-svg" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'font-family="system-ui, sans-serif" font-size="12">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
        + "".join(body)
        + "</svg>"
    )


def column_chart(
    points: Sequence[tuple[str, int]],
    *,
    title: str,
    description: str = "",
    width: int = 720,
    height: int = 240,
    colour: str = COLOURS[0],
) -> SafeString:
    """Vertical columns, one per point (e.g. registrations per hour), values on top."""
    top, bottom, left, right = 16, 28, 8, 8
    plot_h = height - top - bottom
    peak = max((v for _, v in points), default=0) or 1
    slot = (width - left - right) / max(len(points), 1)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="{COLOURS[2]}"/>'
    ]
    for i, (label, value) in enumerate(points):
        h = plot_h * value / peak
        x = left + i * slot + slot * 0.15
        w = slot * 0.7
        y = top + plot_h - h
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if value:
            body.append(
                f'<text x="{x + w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{value}</text>'
            )
        body.append(
            f'<text x="{x + w / 2:.1f}" y="{height - 10}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return _frame(width, height, title, description, body)


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    description: str = "",
    width: int = 720,
    label_width: int = 220,
    row_height: int = 24,
) -> SafeString:
    """Horizontal bars, each made of stacked segments (e.g. taken + free seats), with a
    legend of the segments under the bars."""
    note_width = 150
    plot_w = width - label_width - note_width - 16
    peak = max((b.total for b in bars), default=0) or 1
    legend: dict[str, str] = {}
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = 8 + i * row_height
        body.append(
            f'<text x="{label_width - 6}" y="{y + row_height * 0.6:.1f}" text-anchor="end">'
            f"{escape(bar.label[:40])}</text>"
        )
        x = float(label_width)
        for segment in bar.segments:
            w = plot_w * segment.value / peak
            legend.setdefault(segment.label, segment.colour)
            if w > 0:
                body.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_height - 8}" '
                    f'fill="{segment.colour}"><title>{escape(bar.label)} · '
                    f"{escape(segment.label)}: {segment.value}</title></rect>"
                )
            x += w
        body.append(
            f'<text x="{x + 6:.1f}" y="{y + row_height * 0.6:.1f}">{escape(bar.note)}</text>'
        )
    y = 8 + len(bars) * row_height + 8
    x = float(label_width)
    for label, colour in legend.items():
        body.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{colour}"/>')
        body.append(f'<text x="{x + 16:.1f}" y="{y + 10}">{escape(label)}</text>')
        x += 24 + 7 * len(label)
    return _frame(width, y + 24, title, description, body)
