"""The server-side chart helper: well-formed SVG, escaped text, sizes in proportion."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kattoo.web.svg import Bar, Segment, bar_chart, column_chart

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 — our own output, not untrusted input


def test_column_chart_is_proportional_and_escaped() -> None:
    svg = column_chart([("10", 4), ("11", 2), ("<b>", 0)], title="A & B", description="d")
    root = parse(str(svg))
    assert root.get("role") == "img" and root.find(f"{NS}title").text == "A & B"
    heights = [float(r.get("height")) for r in root.iter(f"{NS}rect")]
    assert heights[0] == 2 * heights[1] and heights[2] == 0
    assert "<b>" not in str(svg) and "&lt;b&gt;" in str(svg)


def test_bar_chart_stacks_segments_and_lists_a_legend() -> None:
    bars = [
        Bar("Chuy · ky", [Segment(30, "taken"), Segment(10, "free", "#ccc")], note="10 free"),
        Bar("Osh · ru", [Segment(0, "taken"), Segment(20, "free", "#ccc")]),
    ]
    root = parse(str(bar_chart(bars, title="Seats")))
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "Chuy · ky" in texts and "10 free" in texts and texts[-2:] == ["taken", "free"]
    rects = [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    widths = [float(r.get("width")) for r in rects]
    assert widths[0] == 3 * widths[1]  # 30 taken vs 10 free in the first bar


def test_empty_charts_still_draw() -> None:
    assert parse(str(column_chart([], title="none"))).tag == f"{NS}svg"
    assert parse(str(bar_chart([], title="none"))).tag == f"{NS}svg"
