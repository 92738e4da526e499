"""Class lists as a PDF for the school's notice board and records (§19)."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from fpdf import FPDF


def class_lists_pdf(
    *, title: str, header: Sequence[str], classes: list[tuple[str, list[list[str]]]]
) -> bytes:
    """One page per class: its name as a heading, then a numbered table of its children."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", settings.KATTOO_PDF_FONT)
    widths = [10, 45, 40, 45, 12, 28]
    for name, rows in classes:
        pdf.add_page()
        pdf.set_font("DejaVu", size=14)
        pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=12)
        pdf.cell(0, 8, name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=9)
        for width, text in zip(widths, header, strict=False):
            pdf.cell(width, 7, text, border=1)
        pdf.ln()
        for row in rows:
            for width, text in zip(widths, row, strict=False):
                pdf.cell(width, 6, text, border=1)
            pdf.ln()
    return bytes(pdf.output())
