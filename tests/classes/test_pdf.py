"""The class-list PDF (§19): headings wrap inside their columns instead of running into the
next one, and every text is the caller's, in the page's language (no Latin "M"/"F")."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kattoo.classes.pdf import class_lists_pdf

HEADER_RU = ["№", "Фамилия", "Имя", "Отчество", "Пол", "Дата рождения"]
HEADER_KY = ["№", "Фамилиясы", "Аты", "Атасынын аты", "Жынысы", "Туулган күнү"]
ROW = ["1", "Токтогулова-Садырбаева", "Айзирек", "Бакытбековна", "кыз", "02.11.2019"]


def _words(pdf: bytes, tmp_path: Path) -> list[tuple[float, float, float, float, str]]:
    """Every word of the first page with its box (poppler's pdftotext -bbox)."""
    source = tmp_path / "classes.pdf"
    source.write_bytes(pdf)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None
    html = subprocess.run(  # noqa: S603 (poppler's own tool on a file written here)
        [pdftotext, "-bbox", "-f", "1", "-l", "1", str(source), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pattern = re.compile(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    )
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in pattern.findall(html)]


def _overlapping(words: list[tuple[float, float, float, float, str]]) -> list[tuple[str, str]]:
    found = []
    for i, (x0, y0, x1, y1, w) in enumerate(words):
        for a0, b0, a1, b1, v in words[i + 1 :]:
            if min(x1, a1) - max(x0, a0) > 0.5 and min(y1, b1) - max(y0, b0) > 0.5:
                found.append((w, v))
    return found


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is absent")
@pytest.mark.parametrize("header", [HEADER_RU, HEADER_KY])
def test_headings_and_cells_never_overlap(header: list[str], tmp_path: Path) -> None:
    pdf = class_lists_pdf(
        title="Школа-гимназия № 4 имени Ч. Айтматова — 2026–2027",
        header=header,
        classes=[("1А (кыргызча)", [ROW, ["2", "Асанов", "Бакыт", "", "уул", "01.01.2020"]])],
    )
    assert pdf.startswith(b"%PDF")
    words = _words(pdf, tmp_path)
    text = " ".join(w for *_box, w in words)
    for heading in header:
        for part in heading.split():
            assert part in text  # every heading word is printed whole, none cut off
    assert _overlapping(words) == []


def test_many_children_repeat_the_headings_on_the_next_page() -> None:
    rows = [[str(i), "Асанов", "Бакыт", "Бакытович", "уул", "01.01.2020"] for i in range(1, 70)]
    pdf = class_lists_pdf(title="Мектеп", header=HEADER_KY, classes=[("1А", rows)])
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 2 or b"/Count 2" in pdf
